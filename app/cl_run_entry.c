/* ClRunEntry: one row of the run list (see cl_run_entry.h). */
#include "app/cl_run_entry.h"

#include <math.h>
#include <string.h>

#include "engine/base/cl_file.h"
#include "engine/base/cl_format.h"

static void entry_update_tooltip (ClRunEntry *e);

enum
{
  ENTRY_PROP_0,
  ENTRY_PROP_TITLE,
  ENTRY_PROP_SUMMARY,
  ENTRY_PROP_DETAIL,
  ENTRY_PROP_OVERLAY,
  ENTRY_PROP_CAN_OVERLAY,
  ENTRY_PROP_CHOICE,
  ENTRY_PROP_NOTE,
  ENTRY_PROP_TOOLTIP,
  ENTRY_N_PROPS
};
static GParamSpec *entry_props[ENTRY_N_PROPS];

G_DEFINE_FINAL_TYPE (ClRunEntry, cl_run_entry, G_TYPE_OBJECT)

static void
cl_run_entry_finalize (GObject *object)
{
  ClRunEntry *e = CL_RUN_ENTRY (object);
  g_clear_pointer (&e->info, cl_run_info_free);
  g_clear_pointer (&e->snap, cl_snapshot_unref);
  g_free (e->key);
  g_free (e->title);
  g_free (e->summary);
  g_free (e->detail);
  g_free (e->choice);
  g_free (e->note);
  g_free (e->tooltip);
  g_free (e->ini_text);
  G_OBJECT_CLASS (cl_run_entry_parent_class)->finalize (object);
}

static void
cl_run_entry_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  ClRunEntry *e = CL_RUN_ENTRY (object);
  switch (id)
    {
    case ENTRY_PROP_TITLE:
      g_value_set_string (value, e->title);
      break;
    case ENTRY_PROP_SUMMARY:
      g_value_set_string (value, e->summary);
      break;
    case ENTRY_PROP_DETAIL:
      g_value_set_string (value, e->detail);
      break;
    case ENTRY_PROP_OVERLAY:
      g_value_set_boolean (value, e->overlay);
      break;
    case ENTRY_PROP_CAN_OVERLAY:
      g_value_set_boolean (value, !e->recording && e->info);
      break;
    case ENTRY_PROP_CHOICE:
      g_value_set_string (value, e->choice);
      break;
    case ENTRY_PROP_NOTE:
      g_value_set_string (value, e->note ? e->note : "");
      break;
    case ENTRY_PROP_TOOLTIP:
      g_value_set_string (value, e->tooltip);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cl_run_entry_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  ClRunEntry *e = CL_RUN_ENTRY (object);
  switch (id)
    {
    case ENTRY_PROP_OVERLAY:
      if (e->overlay != g_value_get_boolean (value))
        {
          e->overlay = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cl_run_entry_class_init (ClRunEntryClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  oc->finalize = cl_run_entry_finalize;
  oc->get_property = cl_run_entry_get_property;
  oc->set_property = cl_run_entry_set_property;
  entry_props[ENTRY_PROP_TITLE] =
      g_param_spec_string ("title", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_SUMMARY] =
      g_param_spec_string ("summary", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_DETAIL] =
      g_param_spec_string ("detail", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_OVERLAY] = g_param_spec_boolean (
      "overlay", NULL, NULL, FALSE, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_CAN_OVERLAY] =
      g_param_spec_boolean ("can-overlay", NULL, NULL, TRUE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_CHOICE] =
      g_param_spec_string ("choice", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_NOTE] =
      g_param_spec_string ("note", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  entry_props[ENTRY_PROP_TOOLTIP] =
      g_param_spec_string ("tooltip", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (oc, ENTRY_N_PROPS, entry_props);
}

static void
cl_run_entry_init (ClRunEntry *e)
{
  e->class_read = NAN;
}

const char *
cl_run_entry_label (const ClRunEntry *e)
{
  if (!e->info)
    return e->choice; /* the drop-downs' first item: "Live run" / "Nothing" */
  return e->info->label && *e->info->label ? e->info->label : e->key;
}

ClRunEntry *
cl_run_entry_new_placeholder (const char *text)
{
  ClRunEntry *e = g_object_new (CL_TYPE_RUN_ENTRY, NULL);
  e->choice = g_strdup (text);
  e->title = g_strdup (text); /* what the drop-down's button shows */
  return e;
}

static void
set_text (ClRunEntry *e, char **field, char *text, int prop)
{
  if (g_strcmp0 (*field, text) == 0)
    {
      g_free (text);
      return;
    }
  g_free (*field);
  *field = text;
  g_object_notify_by_pspec (G_OBJECT (e), entry_props[prop]);
}

void
cl_run_entry_set_note (ClRunEntry *e, const char *note)
{
  set_text (e, &e->note, note && *note ? g_strdup (note) : NULL, ENTRY_PROP_NOTE);
  /* the tooltip holds the note too */
  entry_update_tooltip (e);
}

/* The row's tooltip: everything the row says, the note, why a damaged run is damaged, the folder. */
static void
entry_update_tooltip (ClRunEntry *e)
{
  if (!e->info)
    return;
  GString *tip = g_string_new (NULL);
  g_string_append_printf (tip, "%s\n%s\n%s (final class probe accuracy first)", e->title, e->summary, e->detail);
  if (e->info->status == CL_RUN_STATUS_DAMAGED && e->info->problem)
    g_string_append_printf (tip, "\nDamaged: %s", e->info->problem);
  if (e->note)
    g_string_append_printf (tip, "\nNote: %s", e->note);
  g_string_append_printf (tip, "\n%s", e->info->path);
  set_text (e, &e->tooltip, g_string_free (tip, FALSE), ENTRY_PROP_TOOLTIP);
}

void
cl_run_entry_set_info (ClRunEntry *e, ClRunInfo *info, gboolean recording)
{
  g_clear_pointer (&e->info, cl_run_info_free);
  e->info = info;
  gboolean was_recording = e->recording;
  e->recording = recording;

  GString *title = g_string_new (cl_run_entry_label (e));
  if (recording)
    g_string_append (title, " · recording now");
  else if (info->status != CL_RUN_STATUS_UNKNOWN && info->status != CL_RUN_STATUS_FINISHED)
    g_string_append_printf (title, " · %s", cl_run_status_name (info->status));

  GString *detail = g_string_new (NULL);
  if (info->status == CL_RUN_STATUS_DAMAGED && info->problem)
    g_string_append_printf (detail, "damaged: %s · ", info->problem);
  double cls = cl_run_info_final (info, "class");
  if (!isfinite (cls))
    cls = e->class_read;
  if (isfinite (cls))
    g_string_append_printf (detail, "class %.3f", cls);
  else
    g_string_append (detail, "class —");
  if (info->seed >= 0)
    g_string_append_printf (detail, " · seed %d", info->seed);
  if (isfinite (info->duration))
    {
      char d[32];
      cl_format_duration (info->duration, d, sizeof d);
      g_string_append_printf (detail, "%s%s", detail->len ? " · " : "", d);
    }
  if (info->steps >= 0)
    {
      g_string_append_printf (detail, "%s%" G_GINT64_FORMAT, detail->len ? " · " : "", info->steps);
      if (info->total_steps > 0 && info->total_steps != info->steps)
        g_string_append_printf (detail, "/%" G_GINT64_FORMAT, info->total_steps);
      g_string_append (detail, " steps");
    }

  set_text (e, &e->title, g_string_free (title, FALSE), ENTRY_PROP_TITLE);
  set_text (e, &e->summary, g_strdup (info->summary ? info->summary : ""), ENTRY_PROP_SUMMARY);
  set_text (e, &e->detail, g_string_free (detail, FALSE), ENTRY_PROP_DETAIL);
  /* The A/B drop-downs show exactly what the list shows (title, then the parameters), and follow
   * it when a run's label or values change. */
  set_text (e, &e->choice, *e->summary ? g_strdup_printf ("%s · %s", e->title, e->summary) : g_strdup (e->title),
            ENTRY_PROP_CHOICE);
  entry_update_tooltip (e);
  if (was_recording != recording)
    g_object_notify_by_pspec (G_OBJECT (e), entry_props[ENTRY_PROP_CAN_OVERLAY]);
}

ClRunEntry *
cl_run_entry_new (ClRunInfo *info, const char *key, gboolean from_store, gboolean recording)
{
  ClRunEntry *e = g_object_new (CL_TYPE_RUN_ENTRY, NULL);
  e->key = g_strdup (key);
  e->from_store = from_store;
  e->note = cl_run_note_read (info->path);
  cl_run_entry_set_info (e, info, recording);
  return e;
}

ClSnapshot *
cl_run_entry_snapshot (ClRunEntry *e, GError **error)
{
  if (!e->snap)
    e->snap = cl_run_load (e->info->path, error);
  return e->snap;
}

char *
cl_run_note_read (const char *dir)
{
  if (!dir)
    return NULL;
  g_autofree char *path = g_build_filename (dir, CL_RUN_NOTE_FILE, NULL);
  char *text = NULL;
  if (!g_file_test (path, G_FILE_TEST_EXISTS) || !cl_file_read_regular (path, CL_RUN_NOTE_MAX_BYTES, &text, NULL, NULL))
    return NULL;
  if (!g_utf8_validate (text, -1, NULL))
    {
      char *valid = g_utf8_make_valid (text, -1);
      g_free (text);
      text = valid;
    }
  g_strstrip (text);
  if (!*text)
    g_clear_pointer (&text, g_free);
  return text;
}

const char *
cl_run_entry_ini (ClRunEntry *e)
{
  if (!e->ini_text && e->info && e->info->path)
    {
      g_autofree char *path = g_build_filename (e->info->path, "run.ini", NULL);
      if (!cl_file_read_regular (path, 1 << 20, &e->ini_text, NULL, NULL))
        e->ini_text = g_strdup ("");
    }
  return e->ini_text ? e->ini_text : "";
}
