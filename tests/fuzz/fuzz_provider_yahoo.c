/*
 * fuzz_provider_yahoo — libFuzzer target for the yahoo provider's parser(s);
 * see fuzz_provider_common.h. Built and run by tests/fuzz/run-providers.sh
 * (corpus: tests/fuzz/corpus/provider_yahoo/).
 */
#define FUZZ_PROVIDER "yahoo"
#define FUZZ_SYMBOLS "AAPL", "MSFT", "BRK-B", "^GSPC", "SAP.DE"
#include "fuzz_provider_common.h"
