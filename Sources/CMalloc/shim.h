// glibc's mallopt (Linux only; see Sources/Tensor/Memory.swift).
#ifdef __linux__
#include <malloc.h>
#endif
