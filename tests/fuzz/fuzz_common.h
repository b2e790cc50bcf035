/* Shared by the libFuzzer targets: properties every reader must keep on any input. */
#pragma once
#include <glib.h>
#include <stdlib.h>

/* A message for a person: one line, no control bytes (they would drive a terminal). Aborts,
 * which libFuzzer reports as a finding with the input that caused it. */
static inline void
fuzz_check_message (const GError *error)
{
  if (!error)
    return;
  for (const char *c = error->message; *c; c++)
    if ((unsigned char) *c < 0x20 || *c == 0x7f)
      abort ();
}

static inline char *
fuzz_text (const guint8 *data, size_t size)
{
  char *text = g_malloc (size + 1);
  memcpy (text, data, size);
  text[size] = '\0';
  return text;
}
