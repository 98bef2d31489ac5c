// Package hostcheck measures properties of the host that decide what a
// render costs on it, so that an operator learns of a poor render host
// from the service's own log and metrics rather than from its throughput.
//
// The one check today is the cost of a page fault. Every job's page runs
// in a new Chromium renderer process, and a static job's renderer first
// touches tens of thousands of pages of memory; on bare metal or a VM
// with the CPU's nested paging a fault costs about a microsecond or less,
// but a VM whose hypervisor manages its page tables in software (such as
// PVM) was measured at 11 to 16 µs, and the same code then took more than
// three times the CPU per job.
package hostcheck
