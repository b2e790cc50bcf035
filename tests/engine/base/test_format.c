/* Tests of engine/base/cl_format.c: the one duration formatter. */
#include <glib.h>
#include <math.h>

#include "engine/base/cl_format.h"

static void
check (double seconds, const char *expected)
{
  char buf[32];
  cl_format_duration (seconds, buf, sizeof buf);
  g_assert_cmpstr (buf, ==, expected);
}

static void
test_duration_minutes (void)
{
  check (0, "0:00");
  check (0.4, "0:00");
  check (0.5, "0:01");
  check (59.6, "1:00");
  check (61, "1:01");
  check (3599.4, "59:59");
}

static void
test_duration_hours (void)
{
  check (3600, "1:00:00");
  check (3661, "1:01:01");
  check (36000 + 59 * 60 + 59, "10:59:59");
}

static void
test_duration_unknown (void)
{
  check (-1, "--:--");
  check (NAN, "--:--");
  check (INFINITY, "--:--");
  check (1e300, "--:--");
}

static void
test_duration_truncates_safely (void)
{
  char buf[4];
  cl_format_duration (3661, buf, sizeof buf);
  g_assert_cmpstr (buf, ==, "1:0");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/base/format/duration-minutes", test_duration_minutes);
  g_test_add_func ("/base/format/duration-hours", test_duration_hours);
  g_test_add_func ("/base/format/duration-unknown", test_duration_unknown);
  g_test_add_func ("/base/format/duration-truncates-safely", test_duration_truncates_safely);
  return g_test_run ();
}
