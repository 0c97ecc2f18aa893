# brig: build, demo, test, bench. `make demo` runs a real container; `make test` installs what
# the tests need and runs every test (unit, integration, conformance, VM layouts).
SHELL := /bin/bash
CARGO ?= cargo
BRIG_DEBUG := target/debug/brig
BRIG_RELEASE := target/release/brig
DEMO := target/demo

.PHONY: all build release deps demo test test-unit test-integration lint conformance test-clients test-vm bench clean

all: build

build:
	$(CARGO) build --workspace

release:
	$(CARGO) build --release -p brig

# Debian packages the tests need (busybox-static for test rootfs; runc and crun as reference
# runtimes; podman, conmon, containerd and friends as real clients; hyperfine for benchmarks;
# qemu for the VM test bed). Installs only what is missing.
DEB_PKGS := busybox-static runc crun hyperfine time qemu-system-x86 \
	podman conmon catatonit slirp4netns containernetworking-plugins containerd python3 jq util-linux
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# A busybox bundle under target/demo and a real container run from it.
demo: deps release
	@rm -rf $(DEMO) && mkdir -p $(DEMO)/rootfs/bin
	@cp /bin/busybox $(DEMO)/rootfs/bin/ && for a in sh ls cat echo hostname id ps uname; do ln -s busybox $(DEMO)/rootfs/bin/$$a; done
	@cd $(DEMO) && ../../$(BRIG_RELEASE) spec
	@python3 -c 'import json,sys; p="$(DEMO)/config.json"; c=json.load(open(p)); c["process"]["terminal"]=False; c["process"]["args"]=["sh","-c","echo \"hello from $$(hostname), pid $$$$ in its own pid namespace\"; id; uname -sr; ps"]; c["linux"]["cgroupsPath"]="/brig-demo"; json.dump(c,open(p,"w"),indent=2)'
	$(BRIG_RELEASE) --root $(CURDIR)/$(DEMO)/state run --bundle $(DEMO) demo

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-unit:
	$(CARGO) test --workspace --exclude brig-tests

test-integration: build
	BRIG=$(CURDIR)/$(BRIG_DEBUG) $(CARGO) test -p brig-tests -- --test-threads=2

# The OCI conformance suite against the freshly built brig; fails if a check brig is known to
# pass (conformance/expected/brig.txt) fails. `make conformance RUNTIME=/usr/sbin/runc` runs it
# against another runtime.
RUNTIME ?= $(CURDIR)/$(BRIG_DEBUG)
conformance: build
	RUNTIME=$(RUNTIME) $(if $(RUNTIME_TOOLS_VALIDATION),RUNTIME_TOOLS_VALIDATION=$(RUNTIME_TOOLS_VALIDATION)) conformance/run.sh $(if $(filter $(CURDIR)/$(BRIG_DEBUG),$(RUNTIME)),--expect conformance/expected/brig.txt)

# podman and containerd from Debian driving brig (tests/clients/, runc first as the reference).
# CLIENT_RUNTIMES=brig skips the runc pass; CLIENT_FILTER=REGEX picks scenarios.
test-clients: build
	BRIG=$(CURDIR)/$(BRIG_DEBUG) tests/clients/podman.sh
	BRIG=$(CURDIR)/$(BRIG_DEBUG) tests/clients/containerd.sh

# The VM test bed (docs/testbed.md): Debian's kernel under qemu, once per cgroup layout (v2, v1,
# hybrid), running the test executables built here, the conformance gate and smoke tests.
VM_LAYOUT ?= all
test-vm: build
	tests/vm/build-tests.sh target/vm/tests.list -- --workspace --exclude brig
	(cd conformance && cargo build --release --locked --quiet)
	BRIG_VM_TIMEOUT=$${BRIG_VM_TIMEOUT:-3600} BRIG_VM_TEST_LIST=$(CURDIR)/target/vm/tests.list tests/vm/run.sh $(VM_LAYOUT)

test: deps lint test-unit test-integration conformance test-clients test-vm

bench: deps release
	./tests/bench/bench.sh $(BRIG_RELEASE)

clean:
	$(CARGO) clean
	rm -rf $(DEMO)
