// This file puts the DevTools pipe into Chromium's binary (CBOR) mode.

package render

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/empplay/empplay/internal/cdpcbor"
)

// pipeSwitch is the switch chromedp gives Chromium for its pipe transport.
const pipeSwitch = "--remote-debugging-pipe"

// binaryPipe makes Chromium, about to be started by cmd, speak the
// DevTools protocol in CBOR on its pipe, and converts between that and
// chromedp's JSON in this process (see package cdpcbor): the browser
// process then passes messages between its pages and the worker as they
// are, where it parsed and re-encoded each one (a megabyte of p5.js's
// compilation cache for every job, the picture's parts from the page).
//
// chromedp has created the pipe and given Chromium its ends as
// cmd.ExtraFiles (descriptors 3 and 4 in Chromium), and closes those ends
// here once Chromium has started. binaryPipe keeps copies of them for
// itself, puts the ends of two new pipes under the same descriptor
// numbers, so that Chromium gets the new ones and chromedp's close drops
// this process's copies of them, and carries the messages between the two
// pairs, with the bytes that chromedp's messages name in refs written as
// they are (see [cdpcbor.Refs]). It returns false, and leaves cmd as it
// was, when cmd is not started with chromedp's pipe or a descriptor cannot
// be had.
func binaryPipe(cmd *exec.Cmd, refs *cdpcbor.Refs, errf func(error)) bool {
	at := -1
	for i, a := range cmd.Args {
		if a == pipeSwitch {
			at = i
		}
	}
	if at < 0 || len(cmd.ExtraFiles) < 2 {
		return false
	}
	childR, childW := rawFD(cmd.ExtraFiles[0]), rawFD(cmd.ExtraFiles[1])
	if childR < 0 || childW < 0 {
		return false
	}
	var fds []int // every descriptor made here, closed if it fails
	fail := func(err error) bool {
		for _, fd := range fds {
			_ = syscall.Close(fd)
		}
		errf(fmt.Errorf("render: the binary DevTools pipe: %w", err))
		return false
	}
	// This process's copies of chromedp's ends, close-on-exec.
	fromClient, err := dupCloexec(childR)
	if err != nil {
		return fail(err)
	}
	fds = append(fds, fromClient)
	toClient, err := dupCloexec(childW)
	if err != nil {
		return fail(err)
	}
	fds = append(fds, toClient)
	// The new pipes, blocking, as Chromium reads and writes them.
	var commands, answers [2]int
	if err := syscall.Pipe2(commands[:], syscall.O_CLOEXEC); err != nil {
		return fail(err)
	}
	fds = append(fds, commands[0], commands[1])
	if err := syscall.Pipe2(answers[:], syscall.O_CLOEXEC); err != nil {
		return fail(err)
	}
	fds = append(fds, answers[0], answers[1])
	if err := syscall.Dup3(commands[0], childR, syscall.O_CLOEXEC); err != nil {
		return fail(err)
	}
	if err := syscall.Dup3(answers[1], childW, syscall.O_CLOEXEC); err != nil {
		return fail(err)
	}
	// From here on Chromium's descriptors are the new pipes'.
	_ = syscall.Close(commands[0])
	_ = syscall.Close(answers[1])
	cmd.Args[at] = pipeSwitch + "=cbor"
	client := os.NewFile(uintptr(fromClient), "devtools-client")
	toClientF := os.NewFile(uintptr(toClient), "devtools-client-answers")
	toBrowser := os.NewFile(uintptr(commands[1]), "devtools-browser")
	browser := os.NewFile(uintptr(answers[0]), "devtools-browser-answers")
	go func() {
		cdpcbor.Pump(client, toClientF, browser, toBrowser, refs, errf)
		_ = client.Close()
		_ = browser.Close()
	}()
	return true
}

// rawFD is f's descriptor, or -1, without putting it in blocking mode
// (os.File.Fd would).
func rawFD(f *os.File) int {
	sc, err := f.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if err := sc.Control(func(d uintptr) { fd = int(d) }); err != nil {
		return -1
	}
	return fd
}

// dupCloexec duplicates fd into a new descriptor that exec does not pass
// on.
func dupCloexec(fd int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}
