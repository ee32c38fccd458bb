/*
 * Unit tests of tests/fakemarket/faults.c: which symbols ask for which
 * fault (prefix, any case, longest name wins), names round-trip, and the
 * request/content split that batch answers rely on.
 */
#include "../fakemarket/faults.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static void test_symbol_prefix(void **state)
{
    (void)state;
    static const struct {
        const char *sym;
        enum fm_fault want;
    } cases[] = {
        {"AAPL", FM_FAULT_NONE},
        {"", FM_FAULT_NONE},
        {"ERR500", FM_FAULT_ERR500},
        {"err500-coin", FM_FAULT_ERR500},
        {"ERR5", FM_FAULT_NONE}, /* a prefix of a name is not the name */
        {"ERR429", FM_FAULT_ERR429},
        {"ERR429X", FM_FAULT_ERR429},
        {"ERR429NR", FM_FAULT_ERR429NR}, /* longest wins */
        {"err429nr-coin", FM_FAULT_ERR429NR},
        {"Hang1", FM_FAULT_HANG},
        {"SLOWDRIP", FM_FAULT_SLOWDRIP},
        {"TRUNC.DE", FM_FAULT_TRUNC},
        {"BADJSON", FM_FAULT_BADJSON},
        {"WRONGSHAPE", FM_FAULT_WRONGSHAPE},
        {"HUGE", FM_FAULT_HUGE},
        {"HTMLCT", FM_FAULT_HTMLCT},
        {"LIMIT200", FM_FAULT_LIMIT200},
        {"REDIRLOOP", FM_FAULT_REDIRLOOP},
        {"REDIRFTP", FM_FAULT_REDIRFTP},
        {"EMPTY", FM_FAULT_EMPTY},
        {"CRUMB401", FM_FAULT_CRUMB401},
        {"blockpage.L", FM_FAULT_BLOCKPAGE},
        {"ERR403", FM_FAULT_ERR403},
        {"ERR40", FM_FAULT_NONE},
        {"cgkey401-coin", FM_FAULT_CGKEY401},
        {"NULLCLOSE", FM_FAULT_NULLCLOSE},
        {"nullclose1", FM_FAULT_NULLCLOSE},
        {"NULLPRICE", FM_FAULT_NULLPRICE},
        {"negprice", FM_FAULT_NEGPRICE},
        {"ZEROPRICE", FM_FAULT_ZEROPRICE},
        {"NANPRICE", FM_FAULT_NANPRICE},
        {"FUTURETS", FM_FAULT_FUTURETS},
        {"OLDTS", FM_FAULT_OLDTS},
        {"WRONGCCY", FM_FAULT_WRONGCCY},
        {"MISSING", FM_FAULT_MISSING},
        {"missing-coin", FM_FAULT_MISSING},
        {"NOSUCH", FM_FAULT_NOSUCH},
        {"nosuchcoin", FM_FAULT_NOSUCH},
        {"XNOSUCH", FM_FAULT_NONE}, /* prefix only */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum fm_fault got = fm_fault_of_symbol(cases[i].sym);
        if (got != cases[i].want)
            fail_msg("'%s': got %s, want %s", cases[i].sym, fm_fault_name(got),
                     fm_fault_name(cases[i].want));
    }
}

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int f = 0; f < FM_FAULT_COUNT; f++) {
        enum fm_fault back;
        const char *name = fm_fault_name((enum fm_fault)f);
        assert_non_null(name);
        assert_int_equal(fm_fault_parse(name, &back), 0);
        assert_int_equal(back, f);
        /* the table is in enum order: a symbol named exactly after a
         * fault asks for that fault */
        if (f != FM_FAULT_NONE)
            assert_int_equal(fm_fault_of_symbol(name), f);
    }
    enum fm_fault f;
    assert_int_equal(fm_fault_parse("err502", &f), 0);
    assert_int_equal(f, FM_FAULT_ERR502);
    assert_int_equal(fm_fault_parse("NONE", &f), 0);
    assert_int_equal(f, FM_FAULT_NONE);
    assert_int_equal(fm_fault_parse("bogus", &f), -1);
    assert_int_equal(fm_fault_parse("ERR5000", &f), -1);
    assert_int_equal(fm_fault_parse("", &f), -1);
    assert_string_equal(fm_fault_name(FM_FAULT_COUNT), "none");
}

static void test_kinds(void **state)
{
    (void)state;
    static const enum fm_fault request[] = {
        FM_FAULT_ERR500,   FM_FAULT_ERR502,     FM_FAULT_ERR503,   FM_FAULT_ERR429,
        FM_FAULT_ERR429NR, FM_FAULT_HANG,       FM_FAULT_SLOWDRIP, FM_FAULT_TRUNC,
        FM_FAULT_BADJSON,  FM_FAULT_WRONGSHAPE, FM_FAULT_HUGE,     FM_FAULT_HTMLCT,
        FM_FAULT_LIMIT200, FM_FAULT_REDIRLOOP,  FM_FAULT_REDIRFTP, FM_FAULT_EMPTY,
        FM_FAULT_CRUMB401, FM_FAULT_BLOCKPAGE,  FM_FAULT_ERR403,   FM_FAULT_CGKEY401,
    };
    static const enum fm_fault content[] = {
        FM_FAULT_NULLPRICE, FM_FAULT_NEGPRICE, FM_FAULT_ZEROPRICE, FM_FAULT_NANPRICE,
        FM_FAULT_FUTURETS,  FM_FAULT_OLDTS,    FM_FAULT_WRONGCCY,  FM_FAULT_NULLCLOSE,
        FM_FAULT_MISSING,   FM_FAULT_NOSUCH,
    };
    assert_int_equal(sizeof request / sizeof request[0] + sizeof content / sizeof content[0] + 1,
                     FM_FAULT_COUNT);
    for (size_t i = 0; i < sizeof request / sizeof request[0]; i++) {
        assert_true(fm_fault_is_request(request[i]));
        assert_false(fm_fault_is_absent(request[i]));
    }
    for (size_t i = 0; i < sizeof content / sizeof content[0]; i++)
        assert_false(fm_fault_is_request(content[i]));
    assert_false(fm_fault_is_request(FM_FAULT_NONE));
    assert_true(fm_fault_is_absent(FM_FAULT_MISSING));
    assert_true(fm_fault_is_absent(FM_FAULT_NOSUCH));
    assert_false(fm_fault_is_absent(FM_FAULT_NULLPRICE));
}

static void test_for_entry(void **state)
{
    (void)state;
    static const struct {
        enum fm_fault own, global, want;
    } cases[] = {
        {FM_FAULT_NONE, FM_FAULT_NONE, FM_FAULT_NONE},
        {FM_FAULT_NULLPRICE, FM_FAULT_NONE, FM_FAULT_NULLPRICE},
        {FM_FAULT_NONE, FM_FAULT_OLDTS, FM_FAULT_OLDTS},      /* global content fault */
        {FM_FAULT_MISSING, FM_FAULT_OLDTS, FM_FAULT_MISSING}, /* own wins */
        {FM_FAULT_NONE, FM_FAULT_ERR500, FM_FAULT_NONE},      /* request faults: not per entry */
        {FM_FAULT_SLOWDRIP, FM_FAULT_NONE, FM_FAULT_NONE},
        {FM_FAULT_SLOWDRIP, FM_FAULT_NANPRICE, FM_FAULT_NANPRICE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(fm_fault_for_entry(cases[i].own, cases[i].global), cases[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symbol_prefix),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_for_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
