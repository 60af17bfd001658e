# ext-ebpf — `make run` shows the demo, `make test` runs every test. Both install what is missing.
#
# Toolchains (see README): host crates build with rustup's stable cargo; the no_std subsystem
# crates are also built for bare-metal targets with Debian's rustc-web 1.85 (which ships the
# standard library source for -Zbuild-std), proving they stay no_std and Rust-1.85-clean.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

CARGO ?= cargo
# Debian's rustc-web toolchain, for bare-metal builds.
KCARGO := RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Dwarnings CARGO_TARGET_DIR=$(CURDIR)/target/kernel /usr/bin/cargo
KERNEL_TARGETS := x86_64-unknown-none riscv64gc-unknown-none-elf loongarch64-unknown-none
# The crates a kernel links: all no_std + alloc.
SUBSYS_CRATES := -p syscall-abi -p maps -p bpf-subsys -p jit -p perf-event -p kprobe-arch

.PHONY: deps test host-test lint kernel-check kernel userspace userspace-host-test qemu-test bench run clean

## deps: install the Debian packages and toolchain components that are missing (silent if none)
deps:
	@scripts/deps.sh

## test: every test the project has
test: deps
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory kernel-check
	@$(MAKE) --no-print-directory host-test
	@$(MAKE) --no-print-directory qemu-test

## host-test: unit, layout and property tests of every crate (cargo test)
host-test:
	$(CARGO) test --workspace
	cd testkernel && $(CARGO) test --lib

## lint: clippy with warnings as errors, and formatting
lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) fmt --all -- --check
	cd testkernel && $(CARGO) clippy --lib --tests -- -D warnings && $(CARGO) fmt -- --check

## kernel-check: the subsystem crates build no_std for every kernel architecture with Rust 1.85
kernel-check:
	@for t in $(KERNEL_TARGETS); do \
		echo "kernel-check: $$t (rustc-web $$(/usr/bin/rustc --version | cut -d' ' -f2))"; \
		$(KCARGO) build --quiet $(SUBSYS_CRATES) -Zbuild-std=core,alloc --target $$t; \
	done

## kernel: the demo kernel image, target/kernel-image/testkernel.elf (rustc-web 1.85, rust-lld)
kernel: deps
	@scripts/build-kernel.sh

## userspace: /init, the static test programs and userspace-tests/build/initramfs.cpio
userspace: deps
	@$(MAKE) --no-print-directory -C userspace-tests

## userspace-host-test: the same test programs natively on this Linux host (through /init's test mode)
userspace-host-test: userspace
	userspace-tests/run-on-host.sh

## qemu-test: boot the demo kernel with the test initramfs (/init runs every program in /tests)
## under TCG and, when /dev/kvm opens, under KVM; ends with the line `N passed, N failed`
QEMU_TIMEOUT ?= 1500
qemu-test: kernel userspace
	@scripts/qemu-test.sh target/kernel-image/testkernel.elf userspace-tests/build/initramfs.cpio $(QEMU_TIMEOUT)

## bench: hash map lookup/update against hashbrown, and a probed syscall against the same call
##        unprobed and against a bare int3 round trip (demo kernel; KVM, or TCG on PVM hosts), as ratios
bench: deps
	$(CARGO) bench -p maps --bench hash
	@$(MAKE) --no-print-directory kernel
	scripts/bench-kprobe.sh

## run: boot the demo kernel and run the demo, syscount (an Aya tool: per-syscall counts and
##      latency from the syscall tracepoints and vfs_read kprobes, a table every second);
##      `make run DEMO=/bin/demo` runs the bpf(2) tour instead;
##      `make run PROGRAM=path/to/static-binary ARGS="..."` runs that binary (added to
##      the initramfs as /bin/<name>), its output on the console, exiting with its status
PROGRAM ?=
ARGS ?=
DEMO ?= /bin/syscount
RUN_TIMEOUT ?= 600
RUN_DIRS := --dir /tmp --dir /dev --dir /proc --dir /sys --dir /sys/fs/bpf --dir /sys/kernel/tracing \
	--dir /sys/kernel/debug/tracing --dir /tests
run: kernel userspace
	@if [ -n "$(PROGRAM)" ]; then \
		name=$$(basename "$(PROGRAM)"); \
		python3 scripts/mkinitramfs.py -o target/run-initramfs.cpio $(RUN_DIRS) \
			/init=userspace-tests/build/init "/bin/$$name=$(PROGRAM)"; \
		exec scripts/qemu-run.sh target/kernel-image/testkernel.elf target/run-initramfs.cpio \
			"-- run /bin/$$name $(ARGS)" $(RUN_TIMEOUT); \
	else \
		exec scripts/qemu-run.sh target/kernel-image/testkernel.elf userspace-tests/build/initramfs.cpio \
			"-- run $(DEMO) $(ARGS)" $(RUN_TIMEOUT); \
	fi

clean:
	$(CARGO) clean
	$(MAKE) -C userspace-tests clean
