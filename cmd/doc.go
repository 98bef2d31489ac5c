// Package cmd is empplay's command line: it reads flags and environment
// variables into config structs, builds the logger and every client
// (rueidis, azblob, chromedp), wires them into the worker, and maps errors
// to exit codes. It is the only package that knows all the others.
package cmd
