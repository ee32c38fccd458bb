/*
 * fuzz_provider_binance — libFuzzer target for the binance provider's
 * parser; see fuzz_provider_common.h. Built and run by
 * tests/fuzz/run-providers.sh (corpus: tests/fuzz/corpus/provider_binance/).
 */
#define FUZZ_PROVIDER "binance"
#define FUZZ_SYMBOLS "BTCUSDT", "BNBUSDT", "ETHUSDT"
#include "fuzz_provider_common.h"
