/*
 * fuzz_provider_twelvedata — libFuzzer target for the twelvedata
 * provider's parser (flat and batch answers); see fuzz_provider_common.h.
 * Built and run by tests/fuzz/run-providers.sh (corpus:
 * tests/fuzz/corpus/provider_twelvedata/).
 */
#define FUZZ_PROVIDER "twelvedata"
#define FUZZ_SYMBOLS "AAPL", "VOO", "SAP:XETR", "NOPE"
#include "fuzz_provider_common.h"
