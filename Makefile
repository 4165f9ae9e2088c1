# uxmppd - one Makefile, plain make.
CC	?= cc
CFLAGS	?= -O2 -g
WARN	= -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	  -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wformat=2
CPPFLAGS += -D_GNU_SOURCE -MMD -MP
LDLIBS	= -lmbedtls -lmbedx509 -lmbedcrypto
BUILD	?= build
Q	= $(if $(V),,@)

LIB_SRCS = $(filter-out server.c,$(wildcard *.c))
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/%.o)
# Tests and tools link the archive, so they pull in only what they use.
LIB	= $(BUILD)/libuxmppd.a
TEST_SRCS = $(wildcard tests/test_*.c)
TEST_BINS = $(TEST_SRCS:tests/%.c=$(BUILD)/%)
# A build in another BUILD dir (e.g. sanitizers) keeps its binaries there.
UXMPPD_BIN = $(if $(filter build,$(BUILD)),uxmppd,$(BUILD)/uxmppd)
SCANSION_BIN = $(if $(filter build,$(BUILD)),tests/scansion,$(BUILD)/scansion)
export UXMPPD = $(CURDIR)/$(UXMPPD_BIN)
export SCANSION = $(CURDIR)/$(SCANSION_BIN)

all: check-deps $(UXMPPD_BIN) $(SCANSION_BIN)

check-deps:
	@sh tests/ensure-deps.sh

$(UXMPPD_BIN): $(BUILD)/server.o $(LIB_OBJS)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -I. -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -I. -c -o $@ $<

$(LIB): $(LIB_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/test_%: $(BUILD)/tests/test_%.o $(LIB)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(SCANSION_BIN): $(BUILD)/tests/scansion.o $(LIB)
	@echo "  LD    $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

run: all
	./uxmppd

test: all $(TEST_BINS)
	@sh tests/run-all.sh $(TEST_BINS)

clean:
	rm -rf $(BUILD) build-* uxmppd tests/scansion

# --- runner ---
PEER_DIR ?= ../shared/peer-scenarios/prosody
scenarios: all
	@sh tests/run-scenarios.sh
runner-selftest: all
	@sh tests/runner-selftest.sh
peer-test: all
	@sh tests/run-scenarios.sh --list tests/peer-expected.txt --dir $(PEER_DIR)
# make test runs tests/runner-selftest.sh through tests/run-all.sh.
.PHONY: scenarios runner-selftest peer-test
# --- end runner ---

# --- auth ---
# make fuzz-jid, make fuzz-sasl: libFuzzer builds of the jid/sasl targets
# ($(BUILD)/fuzz/; corpora in tests/fuzz/corpus/{jid,sasl}).
# fuzz-auth-replay: both corpora through a plain build (part of make test).
FUZZ_CC	?= clang
FUZZ_SAN ?= -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
AUTH_FUZZ_SRCS = sasl.c tls.c jid.c buf.c
AUTH_OBJS = $(AUTH_FUZZ_SRCS:%.c=$(BUILD)/%.o)
fuzz-jid fuzz-sasl: fuzz-%: tests/fuzz/fuzz_%.c $(AUTH_FUZZ_SRCS)
	@mkdir -p $(BUILD)/fuzz
	@echo "  FUZZ  $@"
	$(Q)$(FUZZ_CC) $(WARN) -g -O1 $(FUZZ_SAN) -D_GNU_SOURCE -I. \
	    -o $(BUILD)/fuzz/$@ $^ $(LDLIBS)
$(BUILD)/fuzz_jid_replay $(BUILD)/fuzz_sasl_replay: $(BUILD)/%_replay: \
    tests/fuzz/%.c tests/fuzz/replay.c $(AUTH_OBJS)
	$(Q)$(CC) $(WARN) $(CFLAGS) -D_GNU_SOURCE -I. -o $@ $^ $(LDLIBS)
fuzz-auth-replay: $(BUILD)/fuzz_jid_replay $(BUILD)/fuzz_sasl_replay
	@$(BUILD)/fuzz_jid_replay tests/fuzz/corpus/jid/*
	@$(BUILD)/fuzz_sasl_replay tests/fuzz/corpus/sasl/*
test: fuzz-auth-replay
.PHONY: fuzz-jid fuzz-sasl fuzz-auth-replay
# --- end auth ---

# --- xml ---
# make fuzz: libFuzzer build of the xml target (build-fuzz/fuzz_xml; run
# e.g. ./build-fuzz/fuzz_xml -max_total_time=600 tests/fuzz/corpus/xml).
# make fuzz-replay: the same target built with $(CC) and a plain main,
# replaying the corpus (part of make test).  make bench-xml: xml.c vs expat.
XML_FUZZ_CC ?= clang
fuzz: build-fuzz/fuzz_xml
build-fuzz/fuzz_xml: tests/fuzz/fuzz_xml.c xml.c buf.c xml.h buf.h
	@mkdir -p build-fuzz
	@echo "  FUZZ  $@"
	$(Q)$(XML_FUZZ_CC) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -D_GNU_SOURCE -I. -o $@ \
	    tests/fuzz/fuzz_xml.c xml.c buf.c
$(BUILD)/fuzz_xml_replay: tests/fuzz/fuzz_xml.c tests/fuzz/replay.c \
    $(BUILD)/xml.o $(BUILD)/buf.o
	$(Q)$(CC) $(WARN) $(CFLAGS) -D_GNU_SOURCE -I. -o $@ $^
fuzz-replay: $(BUILD)/fuzz_xml_replay
	@$(BUILD)/fuzz_xml_replay tests/fuzz/corpus/xml/*
$(BUILD)/xml_bench: bench/xml_bench.c $(BUILD)/xml.o $(BUILD)/buf.o
	$(Q)$(CC) $(WARN) $(CFLAGS) -D_GNU_SOURCE -I. -o $@ $^ -lexpat
bench-xml: $(BUILD)/xml_bench
	@$(BUILD)/xml_bench
test: fuzz-replay
.PHONY: fuzz fuzz-replay bench-xml
# --- end xml ---

# --- store ---
# make bench-store: the store figures (bench/store_bench.c; pass e.g.
# STORE_BENCH_ARGS="-n 100000 /var/tmp").  make fuzz-store: libFuzzer build
# of the store replay target ($(BUILD)/fuzz/fuzz-store; corpus in
# tests/fuzz/corpus/store).  fuzz-store-replay: that corpus through a plain
# build (part of make test).  make store-crash: kill -9 rounds against
# the real binary (tests/store-crash.sh; not part of make test).
STORE_FUZZ_CC ?= clang
STORE_OBJS = $(BUILD)/store.o $(BUILD)/buf.o $(BUILD)/log.o
$(BUILD)/store_bench: bench/store_bench.c $(STORE_OBJS)
	$(Q)$(CC) $(WARN) $(CFLAGS) -D_GNU_SOURCE -I. -o $@ $^
bench-store: $(BUILD)/store_bench
	@$(BUILD)/store_bench $(STORE_BENCH_ARGS)
fuzz-store: tests/fuzz/fuzz_store.c store.c buf.c log.c
	@mkdir -p $(BUILD)/fuzz
	@echo "  FUZZ  $@"
	$(Q)$(STORE_FUZZ_CC) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -D_GNU_SOURCE -I. \
	    -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -o $(BUILD)/fuzz/$@ $^
$(BUILD)/fuzz_store_replay: tests/fuzz/fuzz_store.c tests/fuzz/replay.c \
    $(STORE_OBJS)
	$(Q)$(CC) $(WARN) $(CFLAGS) -D_GNU_SOURCE -I. -o $@ $^
fuzz-store-replay: $(BUILD)/fuzz_store_replay
	@$(BUILD)/fuzz_store_replay tests/fuzz/corpus/store/*
test: fuzz-store-replay
store-crash: all
	@sh tests/store-crash.sh $(STORE_CRASH_ROUNDS)
.PHONY: bench-store fuzz-store fuzz-store-replay store-crash
# --- end store ---

# --- tls ---
# make test-tls: every scenario over STARTTLS and over direct TLS
# (SCANSION_TLS, see tests/run-scenarios.sh), then tests/tls-test.sh
# (also part of make test through tests/run-all.sh).
test-tls: all
	@SCANSION_TLS=starttls sh tests/run-scenarios.sh
	@SCANSION_TLS=direct sh tests/run-scenarios.sh
	@sh tests/tls-test.sh
.PHONY: test-tls
# --- end tls ---

# --- muc ---
# make bench-muc: groupchat fan-out end to end (bench/muc_bench.sh starts a
# fresh server; rooms of 10/100/1000 occupants, or MUC_BENCH_ARGS sizes).
MUC_BENCH_OBJS = $(BUILD)/buf.o $(BUILD)/sasl.o $(BUILD)/tls.o $(BUILD)/jid.o
$(BUILD)/muc_bench: bench/muc_bench.c $(MUC_BENCH_OBJS)
	$(Q)$(CC) $(WARN) $(CFLAGS) -D_GNU_SOURCE -I. -o $@ $^ $(LDLIBS)
bench-muc: all $(BUILD)/muc_bench
	@UXMPPD=$(abspath $(UXMPPD)) SCANSION=$(abspath $(SCANSION)) \
	    MUC_BENCH=$(abspath $(BUILD)/muc_bench) \
	    sh bench/muc_bench.sh $(MUC_BENCH_ARGS)
.PHONY: bench-muc
# --- end muc ---

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d)
.PHONY: all check-deps run test clean
.SECONDARY:
