package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// MaxPasswordLen bounds a new password, in bytes.
const MaxPasswordLen = 1024

// argon2id parameters for new hashes: OWASP's minimum (19 MiB, two passes,
// one lane), which keeps a login near 20 ms.
const (
	argonMemory  uint32 = 19456 // KiB
	argonTime    uint32 = 2
	argonThreads uint8  = 1
	argonSaltLen        = 16
	argonKeyLen         = 32
)

// Bounds on parameters read back from a stored hash, so a hash planted by a
// restore or an import cannot make a login allocate gigabytes or spin for
// minutes: with --max-concurrent-logins 4, at most 1 GiB in all. flowg's own
// hashes use 19 MiB and 2 passes; the bounds leave room for stronger ones
// (OWASP's strongest argon2id setting is 46 MiB).
const (
	maxArgonMemory  = 256 << 10 // KiB, 256 MiB
	maxArgonTime    = 8
	maxArgonThreads = 16
)

var b64 = base64.RawStdEncoding

// hashPassword returns the PHC-encoded argon2id hash of password with a fresh
// random salt: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func hashPassword(password string) (string, error) {
	if password == "" || len(password) > MaxPasswordLen {
		return "", ErrInvalidPassword
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verifyPassword reports whether password matches encoded, an argon2id hash
// in PHC form or a bcrypt hash ($2a$, $2b$, $2y$). A hash it cannot read
// never matches.
func verifyPassword(encoded, password string) bool {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		return verifyArgon2id(encoded, password)
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		return bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)) == nil
	}
	return false
}

func verifyArgon2id(encoded, password string) bool {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 {
		return false
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	memory, time, threads, ok := parseArgonParams(parts[3])
	if !ok {
		return false
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// parseArgonParams reads "m=<KiB>,t=<passes>,p=<lanes>" and checks each
// value against the bounds above.
func parseArgonParams(s string) (memory, time uint32, threads uint8, ok bool) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return 0, 0, 0, false
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		digits, found := strings.CutPrefix(fields[i], name)
		if !found {
			return 0, 0, 0, false
		}
		v, err := strconv.ParseUint(digits, 10, 32)
		if err != nil {
			return 0, 0, 0, false
		}
		vals[i] = v
	}
	if vals[0] < 8 || vals[0] > maxArgonMemory || vals[1] < 1 || vals[1] > maxArgonTime ||
		vals[2] < 1 || vals[2] > maxArgonThreads {
		return 0, 0, 0, false
	}
	return uint32(vals[0]), uint32(vals[1]), uint8(vals[2]), true
}

// dummyHash is verified against when a login names an unknown user, so that
// the answer takes as long as for a known user with a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, err := hashPassword("flowg-timing-equaliser")
	if err != nil {
		panic("auth: hash dummy password: " + err.Error())
	}
	return h
})

// passwordAlphabet has 62 symbols, so a 20-character password carries about
// 119 bits.
const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomPassword returns n characters drawn uniformly from passwordAlphabet.
func randomPassword(n int) (string, error) {
	const limit = 256 - 256%len(passwordAlphabet) // reject above to stay uniform
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("read random password: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out), nil
}
