package ipaddr

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

var samples = []string{
	"0.0.0.0", "127.0.0.1", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1",
	"1..2.3", "1.2.3.", "", ".", ":", "::", ":::", "::1", "1::", "1::2", "::ffff:1.2.3.4", "::ffff:0:1.2.3.4",
	"::1.2.3.4", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
	"1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4",
	"2001:DB8::1", "2001:db8:0:0:1:0:0:1", "2001:0db8:0000:0000:0000:0000:0000:0001", "12345::1",
	"fe80::1%eth0", "fe80::1%", "1:2::3::4", "1:", ":1", "::1:", "0:0:0:0:0:0:0:0", "1:0:0:2:0:0:0:3",
	"1:0:2:0:3:0:4:0", "::ffff:1.2.3", "::ffff:1.2.3.4.5", "1.2.3.4%x", "g::1", "1:2:3:4:5:6:7:8%z",
	"::ffff:ffff", "::ffff:0.0.0.0", "0:0:0:0:0:ffff:102:304", "a:b:c:d:e:f:0:0", "0:0:a:b:c:d:e:f",
}

// Each sample reads as net/netip reads it, and writes as it writes it.
func TestAgainstNetip(t *testing.T) {
	for _, s := range append(samples, random(2000)...) {
		want, werr := netip.ParseAddr(s)
		got, err := Parse(s)
		if (err == nil) != (werr == nil) {
			t.Errorf("%q: error %v, netip's %v", s, err, werr)
			continue
		}
		if err != nil {
			continue
		}
		if got.String() != want.String() || got.Is4() != want.Is4() || got.Is4In6() != want.Is4In6() || got.As16() != want.As16() || got.Zone() != want.Zone() {
			t.Errorf("%q: %s (v4 %v, %x), netip's %s (v4 %v, %x)", s, got, got.Is4(), got.As16(), want, want.Is4(), want.As16())
		}
		if got.Is4() && got.As4() != want.As4() {
			t.Errorf("%q: As4 %v, want %v", s, got.As4(), want.As4())
		}
	}
}

// IP:PORT reads as net/netip reads it.
func TestAddrPortAgainstNetip(t *testing.T) {
	var cases []string
	for _, s := range samples {
		cases = append(cases, s+":80", "["+s+"]:80", "["+s+"]:", s+":65536", s+":0", "["+s+"]:080", s+":+1")
	}
	cases = append(cases, ":80", "80", "[::1]", "[::1]80", "[]:80", "[:80")
	for _, s := range cases {
		want, werr := netip.ParseAddrPort(s)
		a, port, err := ParseAddrPort(s)
		if (err == nil) != (werr == nil) {
			t.Errorf("%q: error %v, netip's %v", s, err, werr)
			continue
		}
		if err == nil && (a.String() != want.Addr().String() || port != want.Port()) {
			t.Errorf("%q: %s port %d, netip's %s", s, a, port, want)
		}
	}
}

// random makes address-like strings from the characters they are made of.
func random(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	const chars = "0123456789abcdefABCDEF:::..%"
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range r.IntN(24) {
			b.WriteByte(chars[r.IntN(len(chars))])
		}
		out[i] = b.String()
	}
	// and well-formed ones, written by netip
	for i := 0; i < n/4; i++ {
		var a [16]byte
		for j := range a {
			if r.IntN(3) > 0 {
				a[j] = byte(r.IntN(256))
			}
		}
		out = append(out, netip.AddrFrom16(a).String(), netip.AddrFrom4([4]byte(a[:4])).String())
	}
	return out
}

func FuzzParse(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := netip.ParseAddr(s)
		got, err := Parse(s)
		if (err == nil) != (werr == nil) || err == nil && (got.String() != want.String() || got.As16() != want.As16()) {
			t.Errorf("%q: %v %v, netip's %v %v", s, got, err, want, werr)
		}
	})
}
