#include "engine/base/cl_file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ClAtomicFile
{
  char *path;
  char *temp;
  int fd;
  int saved_errno; /* first failure, 0 if none */
};

static void
set_os_error (GError **error, int err, const char *verb, const char *path)
{
  g_autofree char *display = g_filename_display_name (path);
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "%s “%s”: %s", verb, display, g_strerror (err));
}

/* A target that exists must be a regular file (or, for EXCLUSIVE, must not exist). */
static gboolean
check_target (const char *path, ClFileReplaceFlags flags, GError **error)
{
  GStatBuf st;
  if (g_lstat (path, &st) != 0)
    return TRUE; /* absent, or unreachable (the write reports it) */
  g_autofree char *display = g_filename_display_name (path);
  if (flags & CL_FILE_REPLACE_EXCLUSIVE)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                   "“%s” already exists; it was not replaced (choose another name, or allow replacing it)", display);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode) && !S_ISLNK (st.st_mode))
    {
      g_set_error (error, G_FILE_ERROR, S_ISDIR (st.st_mode) ? G_FILE_ERROR_ISDIR : G_FILE_ERROR_FAILED,
                   "Cannot replace “%s”: it is not a regular file", display);
      return FALSE;
    }
  if (S_ISLNK (st.st_mode) && (g_stat (path, &st) == 0 && !S_ISREG (st.st_mode)))
    {
      g_set_error (error, G_FILE_ERROR, S_ISDIR (st.st_mode) ? G_FILE_ERROR_ISDIR : G_FILE_ERROR_FAILED,
                   "Cannot replace “%s”: it is not a regular file", display);
      return FALSE;
    }
  return TRUE;
}

ClAtomicFile *
cl_atomic_file_new (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL && *path, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_strdup_printf (".%s.XXXXXX", base);
  ClAtomicFile *f = g_new0 (ClAtomicFile, 1);
  f->path = g_strdup (path);
  f->temp = g_build_filename (dir, name, NULL);
  f->fd = g_mkstemp_full (f->temp, O_RDWR | O_CLOEXEC, 0644);
  if (f->fd < 0)
    {
      set_os_error (error, errno, "Cannot write", path);
      g_free (f->temp);
      g_free (f->path);
      g_free (f);
      return NULL;
    }
  return f;
}

int
cl_atomic_file_fd (ClAtomicFile *file)
{
  return file->fd;
}

const char *
cl_atomic_file_temp_path (ClAtomicFile *file)
{
  return file->temp;
}

void
cl_atomic_file_set_errno (ClAtomicFile *file, int err)
{
  if (file->saved_errno == 0)
    file->saved_errno = err != 0 ? err : EIO;
}

gboolean
cl_atomic_file_write (ClAtomicFile *file, const void *data, gsize len)
{
  const char *p = data;
  gsize done = 0;
  while (file->saved_errno == 0 && done < len)
    {
      ssize_t w = write (file->fd, p + done, len - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        cl_atomic_file_set_errno (file, w < 0 ? errno : ENOSPC);
      else
        done += (gsize) w;
    }
  return file->saved_errno == 0;
}

void
cl_atomic_file_abort (ClAtomicFile *file)
{
  if (!file)
    return;
  if (file->fd >= 0)
    close (file->fd);
  if (file->temp)
    g_unlink (file->temp);
  g_free (file->temp);
  g_free (file->path);
  g_free (file);
}

/* The rename is durable only once the folder's entry is on disk too. A failure here loses
 * nothing that was promised, so it is not reported. */
static void
sync_parent_folder (const char *path)
{
  g_autofree char *folder = g_path_get_dirname (path);
  int fd = open (folder, O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (fd >= 0)
    {
      (void) fsync (fd);
      close (fd);
    }
}

gboolean
cl_atomic_file_commit (ClAtomicFile *file, ClFileReplaceFlags flags, GError **error)
{
  gboolean durable = !(flags & CL_FILE_REPLACE_NO_SYNC);
  if (file->saved_errno == 0 && durable && fsync (file->fd) != 0)
    cl_atomic_file_set_errno (file, errno);
  if (close (file->fd) != 0)
    cl_atomic_file_set_errno (file, errno);
  file->fd = -1;
  if (file->saved_errno != 0)
    {
      set_os_error (error, file->saved_errno, "Cannot write", file->path);
      cl_atomic_file_abort (file);
      return FALSE;
    }
  if (!check_target (file->path, flags, error))
    {
      cl_atomic_file_abort (file);
      return FALSE;
    }
  if (flags & CL_FILE_REPLACE_EXCLUSIVE)
    {
      if (link (file->temp, file->path) != 0)
        {
          int err = errno;
          if (err == EEXIST)
            {
              check_target (file->path, flags, error);
              cl_atomic_file_abort (file);
              return FALSE;
            }
          if (err != EPERM && err != ENOTSUP && err != EOPNOTSUPP && err != EMLINK && err != ENOSYS)
            {
              set_os_error (error, err, "Cannot write", file->path);
              cl_atomic_file_abort (file);
              return FALSE;
            }
          /* no hard links here (FAT, some network shares): checked above, then renamed */
          if (rename (file->temp, file->path) != 0)
            {
              set_os_error (error, errno, "Cannot write", file->path);
              cl_atomic_file_abort (file);
              return FALSE;
            }
        }
      /* linked: the temp name goes in abort below */
    }
  else if (rename (file->temp, file->path) != 0)
    {
      set_os_error (error, errno, "Cannot replace", file->path);
      cl_atomic_file_abort (file);
      return FALSE;
    }
  else
    g_clear_pointer (&file->temp, g_free);
  if (durable)
    sync_parent_folder (file->path);
  cl_atomic_file_abort (file);
  return TRUE;
}

gboolean
cl_file_replace (const char *path, const void *data, gssize len, ClFileReplaceFlags flags, GError **error)
{
  if (!check_target (path, flags, error))
    return FALSE;
  ClAtomicFile *f = cl_atomic_file_new (path, error);
  if (!f)
    return FALSE;
  cl_atomic_file_write (f, data, len < 0 ? strlen (data) : (gsize) len);
  return cl_atomic_file_commit (f, flags, error);
}

static gboolean
is_temp_suffix (const char *s)
{
  if (strlen (s) != 6)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s))
      return FALSE;
  return TRUE;
}

gboolean
cl_atomic_file_is_temp (const char *name, const char *target)
{
  if (name[0] == '.' && target[0] != '.')
    name++;
  size_t n = strlen (target);
  return strncmp (name, target, n) == 0 && name[n] == '.' && is_temp_suffix (name + n + 1);
}

gboolean
cl_file_read_regular (const char *path, gsize max_bytes, char **data, gsize *len, GError **error)
{
  *data = NULL;
  if (len)
    *len = 0;
  g_autofree char *display = g_filename_display_name (path);
  /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below */
  int fd = open (path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    {
      int err = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "Cannot read “%s”: %s", display,
                   g_strerror (err));
      return FALSE;
    }
  struct stat st;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, G_FILE_ERROR, S_ISDIR (st.st_mode) ? G_FILE_ERROR_ISDIR : G_FILE_ERROR_INVAL,
                   "Cannot read “%s”: not a regular file", display);
      close (fd);
      return FALSE;
    }
  if ((guint64) st.st_size > (guint64) max_bytes)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                   "Cannot read “%s”: too large (%" G_GUINT64_FORMAT " bytes; at most %" G_GSIZE_FORMAT ")", display,
                   (guint64) st.st_size, max_bytes);
      close (fd);
      return FALSE;
    }
  gsize cap = (gsize) st.st_size + 1, used = 0;
  char *buf = g_malloc (cap + 1);
  for (;;)
    {
      if (used == cap)
        {
          if (cap > max_bytes)
            {
              g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                           "Cannot read “%s”: too large (grew past %" G_GSIZE_FORMAT " bytes)", display, max_bytes);
              g_free (buf);
              close (fd);
              return FALSE;
            }
          cap = MIN (cap * 2, max_bytes + 1);
          buf = g_realloc (buf, cap + 1);
        }
      ssize_t n = read (fd, buf + used, cap - used);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n < 0)
        {
          int err = errno;
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (err), "Cannot read “%s”: %s", display,
                       g_strerror (err));
          g_free (buf);
          close (fd);
          return FALSE;
        }
      if (n == 0)
        break;
      used += (gsize) n;
    }
  close (fd);
  buf[used] = '\0';
  *data = buf;
  if (len)
    *len = used;
  return TRUE;
}
