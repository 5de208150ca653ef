package scaffold

// FromUnit is filled in by unit translation.
func FromUnit(file string, data []byte, name string) (string, error) {
	return "", nil
}
