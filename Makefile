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
TOOLS	= $(BUILD)/scansion

all: check-deps uxmppd tests/scansion

check-deps:
	@sh tests/ensure-deps.sh

uxmppd: $(BUILD)/server.o $(LIB_OBJS)
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

tests/scansion: $(BUILD)/tests/scansion.o $(LIB)
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
test: runner-selftest
.PHONY: scenarios runner-selftest peer-test
# --- end runner ---

# --- auth ---
# libFuzzer builds of the jid/sasl targets: make fuzz-jid, make fuzz-sasl
# (binaries in $(BUILD)/fuzz/; run them on tests/fuzz/corpus/<name>/).
FUZZ_CC	?= clang
FUZZ_SAN ?= -fsanitize=fuzzer,address,undefined
AUTH_FUZZ_SRCS = sasl.c tls.c jid.c buf.c
fuzz-jid fuzz-sasl: fuzz-%: tests/fuzz/fuzz_%.c $(AUTH_FUZZ_SRCS)
	@mkdir -p $(BUILD)/fuzz
	@echo "  FUZZ  $@"
	$(Q)$(FUZZ_CC) $(WARN) -g -O1 $(FUZZ_SAN) -D_GNU_SOURCE -I. \
	    -o $(BUILD)/fuzz/$@ $^ $(LDLIBS)
.PHONY: fuzz-jid fuzz-sasl
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

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d)
.PHONY: all check-deps run test clean
.SECONDARY:
