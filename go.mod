module github.com/daemonbox/daemonbox

go 1.26.8

require (
	github.com/moby/sys/capability v0.5.0
	github.com/pelletier/go-toml/v2 v2.4.3
	golang.org/x/sys v0.49.0
)
