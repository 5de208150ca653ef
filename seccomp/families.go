package seccomp

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// families are the socket address families by name, as socket(2) and
// systemd's RestrictAddressFamilies= name them.
var families = []struct {
	name string
	nr   int
}{
	{"AF_UNIX", unix.AF_UNIX}, {"AF_INET", unix.AF_INET}, {"AF_AX25", unix.AF_AX25},
	{"AF_IPX", unix.AF_IPX}, {"AF_APPLETALK", unix.AF_APPLETALK}, {"AF_NETROM", unix.AF_NETROM},
	{"AF_BRIDGE", unix.AF_BRIDGE}, {"AF_ATMPVC", unix.AF_ATMPVC}, {"AF_X25", unix.AF_X25},
	{"AF_INET6", unix.AF_INET6}, {"AF_ROSE", unix.AF_ROSE}, {"AF_DECnet", unix.AF_DECnet},
	{"AF_NETBEUI", unix.AF_NETBEUI}, {"AF_SECURITY", unix.AF_SECURITY}, {"AF_KEY", unix.AF_KEY},
	{"AF_NETLINK", unix.AF_NETLINK}, {"AF_PACKET", unix.AF_PACKET}, {"AF_ECONET", unix.AF_ECONET},
	{"AF_ATMSVC", unix.AF_ATMSVC}, {"AF_RDS", unix.AF_RDS}, {"AF_IRDA", unix.AF_IRDA},
	{"AF_PPPOX", unix.AF_PPPOX}, {"AF_WANPIPE", unix.AF_WANPIPE}, {"AF_LLC", unix.AF_LLC},
	{"AF_IB", unix.AF_IB}, {"AF_MPLS", unix.AF_MPLS}, {"AF_CAN", unix.AF_CAN},
	{"AF_TIPC", unix.AF_TIPC}, {"AF_BLUETOOTH", unix.AF_BLUETOOTH}, {"AF_IUCV", unix.AF_IUCV},
	{"AF_RXRPC", unix.AF_RXRPC}, {"AF_ISDN", unix.AF_ISDN}, {"AF_PHONET", unix.AF_PHONET},
	{"AF_IEEE802154", unix.AF_IEEE802154}, {"AF_CAIF", unix.AF_CAIF}, {"AF_ALG", unix.AF_ALG},
	{"AF_NFC", unix.AF_NFC}, {"AF_VSOCK", unix.AF_VSOCK}, {"AF_KCM", unix.AF_KCM},
	{"AF_QIPCRTR", unix.AF_QIPCRTR}, {"AF_SMC", unix.AF_SMC}, {"AF_XDP", unix.AF_XDP},
	{"AF_MCTP", unix.AF_MCTP},
}

// Family returns the number of an address family's name ("AF_INET6",
// any case; "AF_LOCAL" is AF_UNIX).
func Family(name string) (int, bool) {
	up := strings.ToUpper(name)
	if up == "AF_LOCAL" {
		up = "AF_UNIX"
	}
	for _, f := range families {
		if strings.ToUpper(f.name) == up {
			return f.nr, true
		}
	}
	return 0, false
}

// FamilyNames names numbers, space-separated.
func FamilyNames(nrs []int) string {
	out := make([]string, 0, len(nrs))
	for _, nr := range nrs {
		out = append(out, familyName(nr))
	}
	return strings.Join(out, " ")
}

func familyName(nr int) string {
	for _, f := range families {
		if f.nr == nr {
			return f.name
		}
	}
	return strconv.Itoa(nr)
}

// AllFamilies lists every family name Family knows, for suggestions.
func AllFamilies() []string {
	out := make([]string, len(families))
	for i, f := range families {
		out[i] = f.name
	}
	return out
}
