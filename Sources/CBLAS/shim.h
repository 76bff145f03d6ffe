// OpenBLAS's C interface; pkg-config `openblas` supplies the include path.
#include <cblas.h>
// glibc's allocator knobs (mallopt), which the Tensor target tunes once; C-level like the rest.
#include <malloc.h>
