#include "engine/base/cl_text.h"

#include <string.h>

char *
cl_text_escape (const char *s, int max_chars)
{
  if (!s)
    return g_strdup ("(null)");
  GString *out = g_string_new (NULL);
  const char *p = s, *end = s + strlen (s);
  int chars = 0;
  while (p < end)
    {
      if (max_chars > 0 && chars >= max_chars)
        {
          g_string_append (out, "…");
          break;
        }
      unsigned char c = (unsigned char) *p;
      gunichar u = g_utf8_get_char_validated (p, end - p);
      if (c == '\t' || c == '\n' || c == '\r')
        {
          g_string_append (out, c == '\t' ? "\\t" : c == '\n' ? "\\n" : "\\r");
          p++;
        }
      else if (c < 0x20 || c == 0x7F || u == (gunichar) -1 || u == (gunichar) -2 || (u >= 0x80 && u < 0xA0))
        {
          /* invalid UTF-8 byte by byte; C1 controls (U+0080..U+009F) as their UTF-8 bytes */
          int n = u >= 0x80 && u < 0xA0 ? 2 : 1;
          for (int i = 0; i < n; i++)
            g_string_append_printf (out, "\\x%02x", (unsigned char) p[i]);
          p += n;
        }
      else
        {
          const char *next = g_utf8_next_char (p);
          g_string_append_len (out, p, next - p);
          p = next;
        }
      chars++;
    }
  return g_string_free (out, FALSE);
}
