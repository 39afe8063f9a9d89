/**
 * The errno values FUSE callbacks answer with (negated, as fuse-native expects). Linux numbers;
 * the mount is Linux-only like fuse-native's libfuse2 build.
 */
export const Errno = {
  EPERM: -1,
  ENOENT: -2,
  EIO: -5,
  EBADF: -9,
  EAGAIN: -11,
  EACCES: -13,
  EEXIST: -17,
  ENOTDIR: -20,
  EISDIR: -21,
  EINVAL: -22,
  EFBIG: -27,
  ENOSPC: -28,
  EROFS: -30,
  ERANGE: -34,
  ENODATA: -61,
} as const;
