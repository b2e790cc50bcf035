/* cl_text_escape: control bytes and invalid UTF-8 from files never reach a terminal raw. */
#include <glib.h>
#include <string.h>

#include "engine/base/cl_text.h"

static void
test_escape (void)
{
  struct
  {
    const char *in;
    int max;
    const char *out;
  } cases[] = {
    { "plain", 0, "plain" },
    { "τ=0.1 ünïcode", 0, "τ=0.1 ünïcode" },
    { "bell\a esc\x1b[2J del\x7f", 0, "bell\\x07 esc\\x1b[2J del\\x7f" },
    { "tab\tnl\ncr\r", 0, "tab\\tnl\\ncr\\r" },
    { "bad \xff\xfe utf8", 0, "bad \\xff\\xfe utf8" },
    { "c1 \xc2\x9b control", 0, "c1 \\xc2\\x9b control" },
    { "abcdefghij", 4, "abcd…" },
    { NULL, 0, "(null)" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = cl_text_escape (cases[i].in, cases[i].max);
      g_assert_cmpstr (got, ==, cases[i].out);
      for (const char *c = got; *c; c++)
        g_assert_true ((unsigned char) *c >= 0x20 && *c != 0x7f);
      g_assert_true (g_utf8_validate (got, -1, NULL));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/text/escape", test_escape);
  return g_test_run ();
}
