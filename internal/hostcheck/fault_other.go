//go:build !unix

package hostcheck

import (
	"errors"
	"os"
	"time"
)

func pageSize() int { return os.Getpagesize() }

func touch(int, int) (time.Duration, error) {
	return 0, errors.New("not measured on this system")
}
