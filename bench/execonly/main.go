// Command execonly does nothing but exec its arguments: the cost of starting
// one Go process image, the floor for any Go launcher.
package main

import (
	"os"
	"syscall"
)

func main() {
	err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	os.Stderr.WriteString("execonly: " + err.Error() + "\n")
	os.Exit(127)
}
