package proc

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Threads returns the thread ids of process pid, nil when it is gone.
func Threads(pid int) []int { return threads(root, pid) }

func threads(root string, pid int) []int {
	ents, err := os.ReadDir(filepath.Join(root, strconv.Itoa(pid), "task"))
	if err != nil {
		return nil
	}
	tids := make([]int, 0, len(ents))
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids
}

// HasThread reports whether process pid has a thread whose name (its
// comm, at most 15 bytes) starts with prefix.
func HasThread(pid int, prefix string) bool { return hasThread(root, pid, prefix) }

func hasThread(root string, pid int, prefix string) bool {
	for _, tid := range threads(root, pid) {
		b, err := os.ReadFile(filepath.Join(root, strconv.Itoa(pid), "task", strconv.Itoa(tid), "comm"))
		if err == nil && strings.HasPrefix(string(b), prefix) {
			return true
		}
	}
	return false
}
