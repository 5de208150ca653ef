package caps

import "testing"

func TestUpto(t *testing.T) {
	if Upto(40) != 1<<41-1 || Upto(0) != 1 || Upto(63) != ^Set(0) {
		t.Errorf("Upto: %#x %#x %#x", Upto(40), Upto(0), Upto(63))
	}
}

// Ambient (and so inheritable) is used only when a non-root daemon must keep
// capabilities across exec (security.md P03).
func TestWantSets(t *testing.T) {
	root := Want{Keep: 1 << 10}.Sets()
	if root != (Sets{Bounding: 1 << 10, Permitted: 1 << 10, Effective: 1 << 10}) {
		t.Errorf("root: %+v", root)
	}
	user := Want{Keep: 1 << 10, Ambient: true}.Sets()
	if user.Inheritable != 1<<10 || user.Ambient != 1<<10 || user.Bounding != 1<<10 {
		t.Errorf("non-root: %+v", user)
	}
}

func TestNames(t *testing.T) {
	if Name(10) != "CAP_NET_BIND_SERVICE" || Name(0) != "CAP_CHOWN" {
		t.Errorf("%s %s", Name(10), Name(0))
	}
}

// Verify names every set that differs.
func TestVerify(t *testing.T) {
	w := Want{Keep: 1 << 10, Ambient: true}
	if err := Verify(w, w.Sets()); err != nil {
		t.Fatal(err)
	}
	got := w.Sets()
	got.Bounding |= 1 << 21
	got.Ambient = 0
	err := Verify(w, got)
	want := "capabilities differ from the plan: bounding set is 0x200400, want 0x400; ambient set is 0x0, want 0x400"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
