// Open MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are macros over the addresses of
// global objects, which Swift cannot import; these static inline getters expose them as values.
#include <mpi.h>

static inline MPI_Comm cmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype cmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype cmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Op cmpi_sum(void) { return MPI_SUM; }
static inline MPI_Request cmpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *cmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
static inline void *cmpi_in_place(void) { return MPI_IN_PLACE; }
static inline int cmpi_success(void) { return MPI_SUCCESS; }
static inline int cmpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline MPI_Errhandler cmpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int cmpi_thread_multiple(void) { return MPI_THREAD_MULTIPLE; }
static inline MPI_Datatype cmpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype cmpi_uint16(void) { return MPI_UINT16_T; }

// bfloat16 sums for gradient compression: MPI has no bfloat16 type, so the values travel as
// uint16 bit patterns and this operation adds them in float32, rounding to nearest even.
static inline unsigned short cmpi_bf16_round(unsigned int bits) {
    if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu)) return (unsigned short)((bits >> 16) | 0x40);
    return (unsigned short)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}
static void cmpi_bf16_sum_fn(void *in, void *inout, int *len, MPI_Datatype *type) {
    (void)type;
    const unsigned short *a = (const unsigned short *)in;
    unsigned short *b = (unsigned short *)inout;
    for (int i = 0; i < *len; i++) {
        union { unsigned int u; float f; } x, y;
        x.u = (unsigned int)a[i] << 16;
        y.u = (unsigned int)b[i] << 16;
        y.f = x.f + y.f;
        b[i] = cmpi_bf16_round(y.u);
    }
}
/// The bfloat16 sum operation, made once after MPI_Init (MPI_OP_NULL if MPI refused).
static inline MPI_Op cmpi_bf16_sum(void) {
    static MPI_Op op = MPI_OP_NULL;
    if (op == MPI_OP_NULL) MPI_Op_create(cmpi_bf16_sum_fn, 1, &op);
    return op;
}
