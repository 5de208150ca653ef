// Package ipaddr reads and writes the IP literals of listen addresses
// ("127.0.0.1:80", "[::1]:80"), with net/netip's rules and text. It is
// daemonbox's own because net/netip starts the unique package when it is
// initialized, on every start of every daemonbox image, about 0.1 to 0.2
// ms (issue 20); its tests check it against net/netip.
package ipaddr

import (
	"errors"
	"strconv"
	"strings"
)

// An Addr is an IPv4 or IPv6 address, with an IPv6 zone if it had one.
type Addr struct {
	b    [16]byte // IPv4 in the last four, as a mapped address
	is4  bool
	zone string
}

// IPv6Unspecified is "::".
func IPv6Unspecified() Addr { return Addr{} }

// Is4 says whether a is an IPv4 address (not an IPv4-mapped IPv6 one).
func (a Addr) Is4() bool { return a.is4 }

// Is6 says whether a is an IPv6 address.
func (a Addr) Is6() bool { return !a.is4 }

// Is4In6 says whether a is an IPv4-mapped IPv6 address (::ffff:a.b.c.d).
func (a Addr) Is4In6() bool {
	return !a.is4 && a.b[10] == 0xff && a.b[11] == 0xff && [10]byte(a.b[:10]) == [10]byte{}
}

// As4 is an IPv4 address's four bytes.
func (a Addr) As4() [4]byte { return [4]byte(a.b[12:]) }

// As16 is the address's sixteen bytes (IPv4 as mapped into IPv6).
func (a Addr) As16() [16]byte { return a.b }

// Zone is an IPv6 address's zone ("eth0" of fe80::1%eth0), or "".
func (a Addr) Zone() string { return a.zone }

// ParseAddrPort reads IP:PORT, an IPv6 address in brackets.
func ParseAddrPort(s string) (Addr, uint16, error) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return Addr{}, 0, errors.New("not ip:port: no colon")
	}
	ip, port := s[:i], s[i+1:]
	if port == "" {
		return Addr{}, 0, errors.New("not ip:port: no port")
	}
	bracketed := len(ip) > 1 && ip[0] == '[' && ip[len(ip)-1] == ']'
	if bracketed {
		ip = ip[1 : len(ip)-1]
	}
	a, err := Parse(ip)
	if err != nil {
		return Addr{}, 0, err
	}
	switch {
	case bracketed && a.is4:
		return Addr{}, 0, errors.New("brackets are for IPv6 addresses only")
	case !bracketed && !a.is4:
		return Addr{}, 0, errors.New("an IPv6 address needs brackets")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return Addr{}, 0, errors.New("invalid port " + strconv.Quote(port))
	}
	return a, uint16(p), nil
}

// Parse reads an IPv4 address in dotted decimal or an IPv6 one.
func Parse(s string) (Addr, error) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '.':
			return parse4(s)
		case ':':
			return parse6(s)
		}
	}
	return Addr{}, errors.New("not an IP address: " + strconv.Quote(s))
}

func parse4(s string) (Addr, error) {
	a := Addr{is4: true}
	a.b[10], a.b[11] = 0xff, 0xff
	b, ok := bytes4(s)
	if !ok {
		return Addr{}, errors.New("not an IPv4 address: " + strconv.Quote(s))
	}
	copy(a.b[12:], b[:])
	return a, nil
}

// bytes4 reads four decimal fields of 0 to 255, without leading zeros.
func bytes4(s string) ([4]byte, bool) {
	var b [4]byte
	fields := strings.Split(s, ".")
	if len(fields) != 4 {
		return b, false
	}
	for i, f := range fields {
		if f == "" || len(f) > 3 || (len(f) > 1 && f[0] == '0') || strings.Trim(f, "0123456789") != "" {
			return b, false
		}
		n, _ := strconv.Atoi(f)
		if n > 255 {
			return b, false
		}
		b[i] = byte(n)
	}
	return b, true
}

func parse6(in string) (Addr, error) {
	bad := errors.New("not an IPv6 address: " + strconv.Quote(in))
	s, zone, hasZone := strings.Cut(in, "%")
	if hasZone && zone == "" {
		return Addr{}, bad
	}
	var a Addr
	a.zone = zone
	i, gap := 0, -1 // bytes filled; where "::" is
	if strings.HasPrefix(s, "::") {
		gap, s = 0, s[2:]
	}
	for s != "" && i < 16 {
		n := 0
		for n < len(s) && n < 5 && isHex(s[n]) {
			n++
		}
		switch {
		case n == 0 || n > 4:
			return Addr{}, bad
		case n < len(s) && s[n] == '.': // the last 32 bits in dotted decimal
			b, ok := bytes4(s)
			if !ok || i > 12 {
				return Addr{}, bad
			}
			copy(a.b[i:], b[:])
			i, s = i+4, ""
			continue
		}
		v, _ := strconv.ParseUint(s[:n], 16, 16)
		a.b[i], a.b[i+1] = byte(v>>8), byte(v)
		i, s = i+2, s[n:]
		switch {
		case s == "":
		case s[0] != ':' || len(s) == 1:
			return Addr{}, bad
		case s[1] == ':':
			if gap >= 0 {
				return Addr{}, bad
			}
			gap, s = i, s[2:]
		default:
			s = s[1:]
		}
	}
	if s != "" {
		return Addr{}, bad
	}
	if gap < 0 {
		if i != 16 {
			return Addr{}, bad
		}
		return a, nil
	}
	if i == 16 {
		return Addr{}, bad // "::" must stand for at least one field
	}
	shift := 16 - i
	copy(a.b[gap+shift:], a.b[gap:i])
	clear(a.b[gap : gap+shift])
	return a, nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// String is the address as net/netip writes it: dotted decimal; IPv6 in
// RFC 5952's form (the longest run of two or more zero fields, the first
// of equals, as "::"), ::ffff:a.b.c.d for a mapped IPv4; then %zone.
func (a Addr) String() string {
	if a.is4 {
		return v4String(a.b[12:])
	}
	var sb strings.Builder
	if [12]byte(a.b[:12]) == [12]byte{10: 0xff, 11: 0xff} {
		sb.WriteString("::ffff:" + v4String(a.b[12:]))
	} else {
		writeV6(&sb, a.b)
	}
	if a.zone != "" {
		sb.WriteString("%" + a.zone)
	}
	return sb.String()
}

func v4String(b []byte) string {
	return strconv.Itoa(int(b[0])) + "." + strconv.Itoa(int(b[1])) + "." + strconv.Itoa(int(b[2])) + "." + strconv.Itoa(int(b[3]))
}

func writeV6(sb *strings.Builder, b [16]byte) {
	field := func(i int) uint64 { return uint64(b[2*i])<<8 | uint64(b[2*i+1]) }
	start, length := -1, 1 // the longest zero run, of two fields or more
	for i := 0; i < 8; {
		j := i
		for j < 8 && field(j) == 0 {
			j++
		}
		if j-i > length {
			start, length = i, j-i
		}
		i = j + 1
	}
	for i := 0; i < 8; i++ {
		if i == start {
			sb.WriteString("::")
			i += length - 1
			continue
		}
		if i > 0 && i != start+length {
			sb.WriteByte(':')
		}
		sb.WriteString(strconv.FormatUint(field(i), 16))
	}
}
