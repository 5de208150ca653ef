package rlimit

import "os"

var readFile = os.ReadFile
