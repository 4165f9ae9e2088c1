# uxmppd - one Makefile, plain make.  `make`, `make run`, `make test`.
CC	?= cc
CFLAGS	?= -O2 -g
WARN	= -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wformat=2
# MBEDTLS_PREFIX=dir: mbedTLS from dir/include and dir/lib, not the system's.
CPPFLAGS += -D_GNU_SOURCE -MMD -MP -I. $(if $(MBEDTLS_PREFIX),-I$(MBEDTLS_PREFIX)/include)
LDLIBS	= $(if $(MBEDTLS_PREFIX),-L$(MBEDTLS_PREFIX)/lib) -lmbedtls -lmbedx509 -lmbedcrypto
BUILD	?= build
Q	= $(if $(V),,@)
SAN	= -fsanitize=address,undefined -fno-sanitize-recover=undefined
PEER_DIR ?= ../shared/peer-scenarios/prosody

LIB_SRCS = $(filter-out server.c main.c,$(wildcard *.c))
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)
# Tests and tools link the archive, so they pull in only what they use.
LIB	= $(BUILD)/libuxmppd.a
# Linked into the tests, fuzz targets, runner and crash driver.
TEST_OBJS = $(BUILD)/tests/login.o
TEST_BINS = $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/test_*.c))
FUZZ_TARGETS = xml jid sasl store c2s http ws dns
FUZZ_REPLAYS = $(FUZZ_TARGETS:%=$(BUILD)/fuzz_%_replay)
# Another BUILD dir (sanitizers, size) keeps its binaries there.
UXMPPD_BIN = $(if $(filter build,$(BUILD)),uxmppd,$(BUILD)/uxmppd)
SCANSION_BIN = $(if $(filter build,$(BUILD)),tests/scansion,$(BUILD)/scansion)
export BUILD
export UXMPPD = $(CURDIR)/$(UXMPPD_BIN)
export SCANSION = $(CURDIR)/$(SCANSION_BIN)

all: check-deps $(UXMPPD_BIN) $(SCANSION_BIN)

check-deps:
	@sh tests/ensure-deps.sh

$(UXMPPD_BIN): $(BUILD)/main.o $(BUILD)/server.o $(LIB)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/test_%: $(BUILD)/tests/test_%.o $(TEST_OBJS) $(LIB)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(SCANSION_BIN): $(BUILD)/tests/scansion.o $(TEST_OBJS) $(LIB)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
# The client of tests/store-crash.sh.
$(BUILD)/crash_driver: $(BUILD)/tests/crash_driver.o $(TEST_OBJS) $(LIB)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The load of tests/soak-test.sh.
$(BUILD)/soak_client: $(BUILD)/tests/soak_client.o $(BUILD)/bench/bench_client.o \
    $(TEST_OBJS) $(LIB)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Fuzz targets, replayed over their corpora by make test with a plain main.
$(BUILD)/fuzz_%_replay: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o \
    $(TEST_OBJS) $(LIB)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

run: all
	./$(UXMPPD_BIN)

# Unit tests, fuzz corpus replay, runner self-test, our scenarios, the
# Prosody scenarios in tests/peer-expected.txt, TLS checks; one total.
test: all $(TEST_BINS) $(FUZZ_REPLAYS) $(BUILD)/crash_driver $(BUILD)/powercut_shim.so $(BUILD)/soak_client
	@PEER_DIR=$(PEER_DIR) sh tests/run-all.sh $(TEST_BINS)
# The unit tests alone; T=sasl runs build/test_sasl only (T="xml jid": two).
unit: check-deps $(if $(T),$(T:%=$(BUILD)/test_%),$(TEST_BINS))
	@sh tests/run-all.sh --unit $(filter $(BUILD)/test_%,$^)

# Every scenario again over STARTTLS and over direct TLS.
test-tls: all
	@SCANSION_TLS=starttls sh tests/run-scenarios.sh
	@SCANSION_TLS=direct sh tests/run-scenarios.sh

scenarios: all
	@sh tests/run-scenarios.sh
peer-test: all
	@sh tests/run-scenarios.sh --list tests/peer-expected.txt --dir $(PEER_DIR)
compliance: all
	@sh tests/compliance/run.sh
# Our scenarios and the Prosody ones against a server under valgrind
# memcheck: any error or leak at exit fails (VALGRIND_PEER=no: ours only).
valgrind: all
	@VALGRIND=yes sh tests/run-scenarios.sh
	@[ "$(VALGRIND_PEER)" = no ] || VALGRIND=yes sh tests/run-scenarios.sh \
	    --list tests/peer-expected.txt --dir $(PEER_DIR)

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g $(SAN)" test
# The soak test (tests/soak-test.sh) against the ASan build.
SOAK_SECONDS ?= 600
soak:
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g $(SAN)" \
	    all build-asan/soak_client
	@BUILD=build-asan UXMPPD=$(CURDIR)/build-asan/uxmppd \
	    SCANSION=$(CURDIR)/build-asan/scansion sh tests/soak-test.sh $(SOAK_SECONDS)
ubsan:
	@$(MAKE) --no-print-directory BUILD=build-ubsan \
	    CFLAGS="-O1 -g -fsanitize=undefined -fno-sanitize-recover=undefined" test

# libFuzzer builds: build-fuzz/fuzz_NAME (clang); corpora in tests/fuzz/corpus/.
fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	    CFLAGS="-O1 -g $(SAN) -fsanitize=fuzzer-no-link -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION" \
	    $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)
build-fuzz/fuzz_%: build-fuzz/tests/fuzz/fuzz_%.o build-fuzz/tests/login.o $(LIB)
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# Size build (dropbear SMALL.md): check the stripped size here.
small:
	@$(MAKE) --no-print-directory BUILD=build-small \
	    CFLAGS="-Os -ffunction-sections -fdata-sections" LDFLAGS="-Wl,--gc-sections" \
	    build-small/uxmppd
	@strip -o build-small/uxmppd.stripped build-small/uxmppd
	@ls -l build-small/uxmppd.stripped

bench: bench-xml bench-store bench-muc bench-idle bench-pep
# The idle and MUC clients log in with tests/login.h.
$(BUILD)/%_bench: $(BUILD)/bench/%_bench.o $(BUILD)/bench/bench_client.o $(TEST_OBJS) $(LIB)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lexpat
# One load generator for uxmppd, Prosody and ejabberd (bench/compare.sh).
$(BUILD)/load: $(BUILD)/bench/load.o $(BUILD)/bench/bench_client.o $(LIB)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
bench-compare: all $(BUILD)/load
	@LOAD=$(CURDIR)/$(BUILD)/load sh bench/compare.sh $(COMPARE_ARGS)
bench-xml: $(BUILD)/xml_bench
	@$(BUILD)/xml_bench
bench-store: $(BUILD)/store_bench
	@$(BUILD)/store_bench $(STORE_BENCH_ARGS)
bench-muc: all $(BUILD)/muc_bench
	@MUC_BENCH=$(CURDIR)/$(BUILD)/muc_bench sh bench/muc_bench.sh $(MUC_BENCH_ARGS)
bench-pep: all $(BUILD)/pep_bench
	@PEP_BENCH=$(CURDIR)/$(BUILD)/pep_bench sh bench/pep_bench.sh $(PEP_BENCH_ARGS)
bench-idle: all $(BUILD)/idle_bench
	@IDLE_BENCH=$(CURDIR)/$(BUILD)/idle_bench sh bench/idle_bench.sh $(IDLE_BENCH_ARGS)
# Not in `make bench`: 10M messages take a few GB of disk (MAM_BENCH_ARGS="-n 1000000 -b 100000").
bench-mam: all $(BUILD)/mam_bench
	@MAM_BENCH=$(CURDIR)/$(BUILD)/mam_bench sh bench/mam_bench.sh $(MAM_BENCH_ARGS)
# XEP-0363 PUT/GET throughput over HTTP and HTTPS beside dd and a static server.
bench-upload: all
	@sh bench/upload_bench.sh $(UPLOAD_BENCH_ARGS)
store-crash: all $(BUILD)/crash_driver
	@sh tests/store-crash.sh $(STORE_CRASH_ROUNDS)
# Power cuts: the LD_PRELOAD trace shim (never sanitized: it is preloaded
# before the runtime), thousands of crash points (tests/powercut.py).
$(BUILD)/powercut_shim.so: tests/powercut_shim.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(WARN) -O2 -g -D_GNU_SOURCE -fPIC -shared -o $@ $< -ldl
STORE_CRASH_SIM_ARGS ?= --seed 1 --points 4000 --ops 2000
# then again on a build that compacts the store every few KiB of dead records
store-crash-sim: all $(BUILD)/crash_driver $(BUILD)/powercut_shim.so
	@python3 tests/powercut.py $(STORE_CRASH_SIM_ARGS)
	@$(MAKE) --no-print-directory BUILD=build-sim \
	    CFLAGS="-O2 -g -DSTORE_COMPACT_MIN_DEAD=8192" build-sim/uxmppd
	@UXMPPD=$(CURDIR)/build-sim/uxmppd python3 tests/powercut.py \
	    --seed 1 --points 2000 --ops 1500 --expect-compactions

# Real client libraries and apps against one server (tests/interop/README.md).
interop: all tests/interop/strophe_client
	@[ -d tests/interop/node_modules/converse.js ] || ! command -v npm >/dev/null || \
	    (cd tests/interop && npm ci --no-audit --no-fund) || true
	@bash tests/interop/run.sh $(INTEROP_CLIENTS)
# The desktop apps under Xvfb (sh tests/interop/install-apps.sh desktop); not in CI.
interop-desktop: all
	@INTEROP_DESKTOP=1 INTEROP_TIMEOUT=180 INTEROP_ARTIFACTS=$(CURDIR)/build/interop-desktop \
	    bash tests/interop/run.sh gajim dino
tests/interop/strophe_client: tests/interop/strophe_client.c
	$(Q)if pkg-config --exists libstrophe; then $(CC) -Wall -Wextra -Werror -O2 -o $@ $< \
	    $$(pkg-config --cflags --libs libstrophe); else echo "  (libstrophe-dev missing: no $@)"; fi

clean:
	rm -rf build build-* uxmppd tests/scansion tests/interop/strophe_client

# --- mbedtls3 ---
# The TLS tests and scenarios against Debian 13's mbedTLS 3.6, fetched and
# built once into MBEDTLS3_CACHE (tests/mbedtls3-check.sh).
test-mbedtls3:
	@sh tests/mbedtls3-check.sh
.PHONY: test-mbedtls3
# --- end mbedtls3 ---

-include $(wildcard $(BUILD)/*.d $(BUILD)/*/*.d $(BUILD)/*/*/*.d)
.PHONY: all check-deps run test unit test-tls scenarios peer-test compliance valgrind soak asan ubsan fuzz \
	small bench bench-compare bench-xml bench-store bench-muc bench-pep bench-idle bench-mam bench-upload \
	store-crash store-crash-sim clean interop interop-desktop
.SECONDARY:
