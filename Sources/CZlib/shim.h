// zlib's gz* stream functions read gzip-compressed and plain files alike.
#include <zlib.h>
