// Package proc finds, measures, starts and kills processes through Linux's
// /proc and process groups: the one place empplay scans the process table.
//
// Processes are found by a unique directory on their command line (a
// Chromium profile directory, say) or by process group ([Follower] keeps
// track of one group for a caller that asks several times a second
// without reading every process on the host each time), and killed by pid
// or group, never by name: several workers run Chromium on one host.
// [KillNaming] kills and then waits, under a deadline the caller chooses,
// until the processes are gone. [Start] forks a child from a locked OS
// thread so that its death signal (Pdeathsig) means "the parent died".
package proc
