package supervisor

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Pool names known to [ParseWorkers].
const (
	// PoolPlaywright is empplay's own render workers, started by the
	// supervisor.
	PoolPlaywright = "playwright"
	// PoolComfyUI is a co-located service sharing the host's GPU. The
	// supervisor does not start it; its count only matters for GPU sharing.
	PoolComfyUI = "comfyui"
)

// MaxPoolCount is the largest count [ParseWorkers] accepts for one pool.
const MaxPoolCount = 64

var knownPools = []string{PoolComfyUI, PoolPlaywright}

// Pool is one entry of the WORKERS setting: a pool name and how many
// processes of it run on this host.
type Pool struct {
	Name  string
	Count int
}

// ParseWorkers parses the WORKERS setting, such as "comfyui:2,playwright:4",
// into its pools, in the order given. Whitespace is allowed around items and
// around the colon. Each name must be known ([PoolPlaywright],
// [PoolComfyUI]) and listed once, and each count an integer from 0 to
// [MaxPoolCount]. A playwright count of at least 1 is required, since
// nothing else is started by the supervisor.
//
// The errors name the bad item; the caller reports them as configuration
// errors, naming its flag or variable.
func ParseWorkers(s string) ([]Pool, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New(`empty: want a list of name:count such as "playwright:4" or "comfyui:2,playwright:4"`)
	}
	var pools []Pool
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("item %d is empty: want name:count items separated by commas", i+1)
		}
		name, count, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("item %q has no count: want name:count, such as %q", item, PoolPlaywright+":4")
		}
		name, count = strings.TrimSpace(name), strings.TrimSpace(count)
		if !slices.Contains(knownPools, name) {
			return nil, fmt.Errorf("item %q: unknown pool %q; known pools: %s", item, name, strings.Join(knownPools, ", "))
		}
		if count == "" {
			return nil, fmt.Errorf("item %q has no count: want name:count, such as %q", item, name+":1")
		}
		n, err := strconv.Atoi(count)
		if err != nil {
			return nil, fmt.Errorf("item %q: count %q is not an integer", item, count)
		}
		if n < 0 || n > MaxPoolCount {
			return nil, fmt.Errorf("item %q: count %d is out of range 0..%d", item, n, MaxPoolCount)
		}
		if slices.ContainsFunc(pools, func(p Pool) bool { return p.Name == name }) {
			return nil, fmt.Errorf("item %q: pool %q is listed twice", item, name)
		}
		pools = append(pools, Pool{Name: name, Count: n})
	}
	i := slices.IndexFunc(pools, func(p Pool) bool { return p.Name == PoolPlaywright })
	if i < 0 {
		return nil, fmt.Errorf("%q has no %s entry: nothing to supervise", s, PoolPlaywright)
	}
	if pools[i].Count == 0 {
		return nil, fmt.Errorf("%q has %s:0: nothing to supervise", s, PoolPlaywright)
	}
	return pools, nil
}
