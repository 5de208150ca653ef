package spec

import (
	"strings"
	"testing"
)

func TestListenAddresses(t *testing.T) {
	const head = "[process]\ncommand = [\"/bin/true\"]\n[[fds.listen]]\nname = \"s\"\n"
	cases := []struct {
		extra string
		want  Listen
	}{
		{`address = "tcp://127.0.0.1:80"`, Listen{Network: NetTCP, Host: "127.0.0.1", Port: 80}},
		{`address = "tcp://:8080"`, Listen{Network: NetTCP, Host: "0.0.0.0", Port: 8080}},
		{`address = "tcp://[::]:443"`, Listen{Network: NetTCP, Host: "::", Port: 443}},
		{`address = "tcp6://[::1]:8080"`, Listen{Network: NetTCP6, Host: "::1", Port: 8080}},
		{`address = "tcp6://:8080"`, Listen{Network: NetTCP6, Host: "::", Port: 8080}},
		{`address = "udp://0.0.0.0:53"`, Listen{Network: NetUDP, Host: "0.0.0.0", Port: 53}},
		{`address = "udp6://[::]:53"`, Listen{Network: NetUDP6, Host: "::", Port: 53}},
		{`address = "unix:///run/x.sock"`, Listen{Network: NetUnix, Path: "/run/x.sock"}},
		{"address = \"unix:///run/x.sock\"\nmode = 0o660\nowner = \"www-data:adm\"", Listen{Network: NetUnix, Path: "/run/x.sock"}},
		{"address = \"unix:///run/x.sock\"\nowner = \"33:4\"", Listen{Network: NetUnix, Path: "/run/x.sock"}},
		{`address = "systemd:web.socket"`, Listen{Network: NetSystemd, Systemd: "web.socket"}},
	}
	for _, c := range cases {
		s, err := Parse("t.toml", []byte(head+c.extra+"\n"))
		if err != nil {
			t.Errorf("%s: %v", c.extra, err)
			continue
		}
		got := s.FDs.Listen[0]
		if got.Name != "s" || got.Network != c.want.Network || got.Host != c.want.Host || got.Port != c.want.Port ||
			got.Path != c.want.Path || got.Systemd != c.want.Systemd {
			t.Errorf("%s: got %+v", c.extra, got)
		}
	}
}

func TestListenOwnerAndMode(t *testing.T) {
	const head = "[process]\ncommand = [\"/bin/true\"]\n[[fds.listen]]\nname = \"s\"\naddress = \"unix:///run/x.sock\"\n"
	s, err := Parse("t.toml", []byte(head+"mode = \"0600\"\nowner = \"www-data:33\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := s.FDs.Listen[0]
	if *l.Mode != 0o600 || *l.Owner != (ID{Name: "www-data", IsName: true}) || *l.Group != (ID{Num: 33}) {
		t.Errorf("%+v %+v %+v", *l.Mode, *l.Owner, *l.Group)
	}
	s, err = Parse("t.toml", []byte(head+"owner = 65534\n"))
	if err != nil || *s.FDs.Listen[0].Owner != (ID{Num: 65534}) || s.FDs.Listen[0].Group != nil {
		t.Errorf("owner = 65534: %v", err)
	}
}

func TestListenErrors(t *testing.T) {
	const cmd = "[process]\ncommand = [\"/bin/true\"]\n"
	cases := []struct{ doc, want string }{
		{cmd + "[[fds.listen]]\naddress = \"tcp://:80\"\n", "t.toml:3:7: fds.listen[0]: name is required"},
		{cmd + "[[fds.listen]]\nname = \"a:b\"\naddress = \"tcp://:80\"\n", `t.toml:4:8: fds.listen[0].name: "a:b" is not a valid socket name: printable ASCII without ':'`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"tcp://:80\"\n[[fds.listen]]\nname = \"a\"\naddress = \"tcp://:81\"\n", `t.toml:7:8: fds.listen[1].name: "a" is the name of an earlier socket`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"http://x\"\n", `t.toml:5:11: fds.listen[0].address: "http://x": unknown kind "http"`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"tcp://localhost:80\"\n", `fds.listen[0].address: "tcp://localhost:80": expected HOST:PORT with an IP address`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"tcp://::1:80\"\n", `expected HOST:PORT`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"tcp://1.2.3.4:0\"\n", `port 0 would let the kernel pick`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"tcp://1.2.3.4:65536\"\n", `expected HOST:PORT`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"tcp6://127.0.0.1:80\"\n", `tcp6:// takes an IPv6 address`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"udp6://[::ffff:127.0.0.1]:80\"\n", `an IPv4-mapped address needs IPv4, which a udp6:// socket does not take: write udp://[::ffff:127.0.0.1]:PORT`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"unix://run/x\"\n", `expected unix:///ABSOLUTE/PATH`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"unix:///run/../x\"\n", `not canonical (write "/x")`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"unix:///" + strings.Repeat("x", 110) + "\"\n", `longer than the kernel's 107 bytes`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"systemd:\"\n", `the name systemd gave the socket 1 to 255 characters`},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"tcp://:80\"\nmode = 0o600\n", "t.toml:6:8: fds.listen[0].mode: mode applies to a unix:// socket only"},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"unix:///x\"\nmode = 600\n", "t.toml:6:8: fds.listen[0].mode: 600 is a decimal integer; write it in octal"},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"unix:///x\"\nmode = \"0800\"\n", "0800 is not a mode"},
		{cmd + "[[fds.listen]]\nname = \"a\"\naddress = \"unix:///x\"\nowner = \"a b\"\n", `fds.listen[0].owner: "a b" is not a valid name`},
		{cmd + "[fds]\npreserve = [4, 5]\n[[fds.listen]]\nname = \"a\"\naddress = \"tcp://:80\"\n[[fds.listen]]\nname = \"b\"\naddress = \"tcp://:81\"\n",
			"t.toml:4:13: fds.preserve: fd 4 is where a listen socket arrives (fds.listen takes fds 3 to 4): preserve an fd above"},
	}
	for _, c := range cases {
		_, err := Parse("t.toml", []byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.doc, err, c.want)
		}
	}
}
