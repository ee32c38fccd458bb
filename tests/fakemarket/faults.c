/*
 * faults — see faults.h.
 */
#include "faults.h"

#include <ctype.h>
#include <string.h>

/* Indexed by enum fm_fault; a test checks the order stays in step. */
static const char *const fault_names[FM_FAULT_COUNT] = {
    [FM_FAULT_NONE] = "none",
    [FM_FAULT_ERR500] = "ERR500",
    [FM_FAULT_ERR502] = "ERR502",
    [FM_FAULT_ERR503] = "ERR503",
    [FM_FAULT_ERR429] = "ERR429",
    [FM_FAULT_ERR429NR] = "ERR429NR",
    [FM_FAULT_HANG] = "HANG",
    [FM_FAULT_SLOWDRIP] = "SLOWDRIP",
    [FM_FAULT_TRUNC] = "TRUNC",
    [FM_FAULT_BADJSON] = "BADJSON",
    [FM_FAULT_WRONGSHAPE] = "WRONGSHAPE",
    [FM_FAULT_HUGE] = "HUGE",
    [FM_FAULT_HTMLCT] = "HTMLCT",
    [FM_FAULT_LIMIT200] = "LIMIT200",
    [FM_FAULT_REDIRLOOP] = "REDIRLOOP",
    [FM_FAULT_REDIRFTP] = "REDIRFTP",
    [FM_FAULT_EMPTY] = "EMPTY",
    [FM_FAULT_CRUMB401] = "CRUMB401",
    [FM_FAULT_BLOCKPAGE] = "BLOCKPAGE",
    [FM_FAULT_ERR403] = "ERR403",
    [FM_FAULT_CGKEY401] = "CGKEY401",
    [FM_FAULT_NULLPRICE] = "NULLPRICE",
    [FM_FAULT_NEGPRICE] = "NEGPRICE",
    [FM_FAULT_ZEROPRICE] = "ZEROPRICE",
    [FM_FAULT_NANPRICE] = "NANPRICE",
    [FM_FAULT_FUTURETS] = "FUTURETS",
    [FM_FAULT_OLDTS] = "OLDTS",
    [FM_FAULT_WRONGCCY] = "WRONGCCY",
    [FM_FAULT_NULLCLOSE] = "NULLCLOSE",
    [FM_FAULT_MISSING] = "MISSING",
    [FM_FAULT_NOSUCH] = "NOSUCH",
};

static bool has_prefix_nocase(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (*s == '\0' || toupper((unsigned char)*s) != toupper((unsigned char)*prefix))
            return false;
    return true;
}

enum fm_fault fm_fault_of_symbol(const char *symbol)
{
    enum fm_fault best = FM_FAULT_NONE;
    size_t best_len = 0;
    for (int f = FM_FAULT_NONE + 1; f < FM_FAULT_COUNT; f++) {
        size_t len = strlen(fault_names[f]);
        if (len > best_len && has_prefix_nocase(symbol, fault_names[f])) {
            best = (enum fm_fault)f;
            best_len = len;
        }
    }
    return best;
}

int fm_fault_parse(const char *name, enum fm_fault *out)
{
    for (int f = FM_FAULT_NONE; f < FM_FAULT_COUNT; f++) {
        if (util_streq_nocase(name, fault_names[f])) {
            *out = (enum fm_fault)f;
            return 0;
        }
    }
    return -1;
}

const char *fm_fault_name(enum fm_fault f)
{
    if ((unsigned)f >= FM_FAULT_COUNT)
        return "none";
    return fault_names[f];
}

bool fm_fault_is_request(enum fm_fault f)
{
    return f >= FM_FAULT_ERR500 && f <= FM_FAULT_CGKEY401;
}

bool fm_fault_is_absent(enum fm_fault f)
{
    return f == FM_FAULT_MISSING || f == FM_FAULT_NOSUCH;
}

enum fm_fault fm_fault_for_entry(enum fm_fault own, enum fm_fault global)
{
    if (own != FM_FAULT_NONE && !fm_fault_is_request(own))
        return own;
    if (global != FM_FAULT_NONE && !fm_fault_is_request(global))
        return global;
    return FM_FAULT_NONE;
}
