/* Prototype, NOT used by the tfjs_lstm package: the WHOLE time loop of an unmasked, forward
 * Keras 3 LSTM (tanh, sigmoid) in one call, to measure what a compiled kernel would gain over
 * the numpy runtime and how close it comes to onnxruntime's LSTM op (issue 15). Called through
 * ctypes, which releases the GIL once for the whole loop.
 *
 * Products: OpenBLAS sgemm/sgemv from the library numpy already loaded, passed in as function
 * pointers (numpy's wheels bundle an ILP64 OpenBLAS, so integer arguments are 64-bit), nothing
 * linked here; or, for the step's product, a small kernel of our own on weights packed once. Gate arithmetic: AVX2/FMA with a vectorized tanh of our own (below), in the same
 * order of roundings as tfjs_lstm/runtime/recurrent.py (no FMA contraction outside tanh: build
 * with -ffp-contract=off).
 *
 * Layout as the package's (recurrent.py, scan.py): in the loop every array is [units, batch]
 * (transposed), gates in Keras order i, f, c, o, the i, f, o columns of the weights pre-scaled
 * by 0.5 (exact), so sigmoid(x) = 0.5*tanh(0.5x) + 0.5 and one tanh serves all four gates.
 * The units split into parts, each with its own rows of the weights: part p owns units
 * [bounds[p], bounds[p+1]) and runs its own input projection, product and gate arithmetic; with
 * more than one part each runs on its own thread (the first on the caller's), reading the whole
 * h of the step, writing its rows of the next h (h lives in two buffers, used in turn), and the
 * parts meet at a spinning barrier after every step.
 *
 * Inputs: xin [rows, time*batch], the input with a last row of ones (the bias rides in the
 * projection as a fixed input, as in the package): column t*batch + b is x[b, t, :]. For each
 * part: recurrent [4n, units] (U.T, its gate rows; for our own product packed, see
 * own_product) and projection [4n, rows] (kernel.T with the bias as last column). Outputs: the last h and c, [units, batch]. */
#include <immintrin.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef int64_t blasint;
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, blasint m, blasint n, blasint k,
                         float alpha, const float *a, blasint lda, const float *b, blasint ldb,
                         float beta, float *c, blasint ldc);
typedef void (*sgemv_fn)(int order, int trans, blasint m, blasint n, float alpha,
                         const float *a, blasint lda, const float *x, blasint incx, float beta,
                         float *y, blasint incy);

/* Input projections are computed this many floats at a time (256 KiB, as the package). */
#define PROJECTION_CHUNK_FLOATS (1L << 16)
/* Spins before a waiting part yields its core (another process may need it). */
#define SPINS_BEFORE_YIELD 2000

/* exp(x) for x in [0, 20]: x = n ln2 + r, |r| <= ln2/2, Cephes' degree-6 polynomial for e^r
 * (about 1 ulp), 2^n put in the exponent. */
static inline __m256 exp_positive(__m256 x)
{
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i scale = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), scale));
}

/* tanh(x), Cephes' tanhf scheme vectorized: odd polynomial below |x| = 0.625, else
 * 1 - 2/(e^2|x| + 1) with the sign of x (|x| clamped at 9, where tanh rounds to 1). */
static inline __m256 tanh8(__m256 x)
{
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 a = _mm256_min_ps(_mm256_andnot_ps(sign, x), _mm256_set1_ps(9.0f));
    const __m256 e = exp_positive(_mm256_add_ps(a, a));
    const __m256 big = _mm256_sub_ps(
        _mm256_set1_ps(1.0f),
        _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
    const __m256 z = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
    const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    const __m256 signed_big = _mm256_or_ps(big, _mm256_and_ps(sign, x));
    return _mm256_blendv_ps(signed_big, small, _mm256_cmp_ps(a, _mm256_set1_ps(0.625f),
                                                             _CMP_LT_OQ));
}

/* tanh over n floats (for the accuracy check in measure_scan.py). */
void tanh_array(const float *x, float *y, long n)
{
    long k = 0;
    for (; k + 8 <= n; k += 8)
        _mm256_storeu_ps(y + k, tanh8(_mm256_loadu_ps(x + k)));
    for (; k < n; k++) {
        float in[8] = {x[k]}, out[8];
        _mm256_storeu_ps(out, tanh8(_mm256_loadu_ps(in)));
        y[k] = out[0];
    }
}

/* Lanes of a row tail of `left` (< 8) floats. */
static inline __m256i tail_mask(long left)
{
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)left), lanes);
}

/* One step's gate arithmetic over `rows` rows of `width` floats: gate g of row j is at
 * z + g*gz + j*lz and xw + g*gx + j*lx; c and h rows are at j*lh. As the package: pre = z + xw,
 * t = tanh(pre), i, f, o = 0.5t + 0.5, g = t; c = f*c; c = c + g*i; h = o*tanh(c). */
static void gates(long rows, long width, float *z, long gz, long lz, const float *xw, long gx,
                  long lx, float *c, float *h, long lh)
{
    const __m256 half = _mm256_set1_ps(0.5f);
    for (long j = 0; j < rows; j++) {
        float *zr = z + j * lz, *cr = c + j * lh, *hr = h + j * lh;
        const float *xr = xw + j * lx;
        for (long b = 0; b < width; b += 8) {
            const __m256i mask = tail_mask(width - b < 8 ? width - b : 8);
            __m256 t[4];
            for (int g = 0; g < 4; g++)
                t[g] = tanh8(_mm256_add_ps(_mm256_maskload_ps(zr + g * gz + b, mask),
                                           _mm256_maskload_ps(xr + g * gx + b, mask)));
            const __m256 i = _mm256_fmadd_ps(t[0], half, half);
            const __m256 f = _mm256_fmadd_ps(t[1], half, half);
            const __m256 o = _mm256_fmadd_ps(t[3], half, half);
            __m256 cn = _mm256_mul_ps(f, _mm256_maskload_ps(cr + b, mask));
            cn = _mm256_add_ps(cn, _mm256_mul_ps(t[2], i));
            _mm256_maskstore_ps(cr + b, mask, cn);
            _mm256_maskstore_ps(hr + b, mask, _mm256_mul_ps(o, tanh8(cn)));
        }
    }
}

/* Rows of the weights in one block of the packed layout of our own product (below). */
#define MR 6

/* Our own product z[m, n] = A[m, k] @ h[k, n] (row-major, z's row stride n) with A packed once
 * (packed_rows in measure_scan.py) as blocks of MR rows, k-major: packed[(ib*k + p)*MR + r] =
 * A[ib*MR + r, p], zero rows padding m up to m_blocks*MR (z has room for them). h is first
 * copied into strips of 16 columns, k-major (hs[(jb/16*k + p)*16 + q] = h[p, jb + q], zeros
 * past n), so a 6x16 AVX2/FMA micro-kernel reads both operands contiguously: each block's
 * packed rows (6k floats) stay in L1 while it sweeps the strips. Unlike OpenBLAS it does not
 * re-pack the weights at every call, as onnxruntime's MLAS keeps them packed. */
static void own_product(long m_blocks, long k, long n, const float *packed, const float *h,
                        float *hs, float *z)
{
    const long strips = (n + 15) / 16;
    for (long jb = 0; jb < strips; jb++) {
        const long width = n - jb * 16 < 16 ? n - jb * 16 : 16;
        for (long p = 0; p < k; p++) {
            float *row = hs + (jb * k + p) * 16;
            memcpy(row, h + p * n + jb * 16, (size_t)width * sizeof(float));
            memset(row + width, 0, (size_t)(16 - width) * sizeof(float));
        }
    }
    for (long ib = 0; ib < m_blocks; ib++) {
        const float *a = packed + ib * k * MR;
        float *zb = z + ib * MR * n;
        for (long jb = 0; jb < strips; jb++) {
            const float *strip = hs + jb * k * 16;
            __m256 acc[MR][2];
            for (int r = 0; r < MR; r++)
                acc[r][0] = acc[r][1] = _mm256_setzero_ps();
            for (long p = 0; p < k; p++) {
                const __m256 b0 = _mm256_load_ps(strip + p * 16);
                const __m256 b1 = _mm256_load_ps(strip + p * 16 + 8);
                for (int r = 0; r < MR; r++) {
                    const __m256 ar = _mm256_broadcast_ss(a + p * MR + r);
                    acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
                    acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
                }
            }
            const long left = n - jb * 16;
            const __m256i m0 = tail_mask(left < 8 ? left : 8);
            const __m256i m1 = tail_mask(left < 16 ? (left > 8 ? left - 8 : 0) : 8);
            for (int r = 0; r < MR; r++) {
                _mm256_maskstore_ps(zb + r * n + jb * 16, m0, acc[r][0]);
                _mm256_maskstore_ps(zb + r * n + jb * 16 + 8, m1, acc[r][1]);
            }
        }
    }
}

/* Where the parts wait for each other after a step: a sense-reversing spinning barrier, which
 * the caller stops when a part's thread could not be started. */
typedef struct {
    atomic_int arrived;
    atomic_int sense;
    atomic_int stopped;
    int parties;
} barrier_t;

/* Returns 0 once every part has arrived, -1 if the barrier was stopped. */
static int barrier_wait(barrier_t *barrier, int *own_sense)
{
    const int sense = !*own_sense;
    *own_sense = sense;
    if (atomic_fetch_add(&barrier->arrived, 1) == barrier->parties - 1) {
        atomic_store(&barrier->arrived, 0);
        atomic_store(&barrier->sense, sense);
        return 0;
    }
    for (long spins = 0; atomic_load(&barrier->sense) != sense; spins++) {
        if (atomic_load(&barrier->stopped))
            return -1;
        if (spins < SPINS_BEFORE_YIELD)
            _mm_pause();
        else
            sched_yield();
    }
    return 0;
}

/* What all parts share. */
/* How a step's product runs. */
enum { PRODUCT_SGEMM = 0, PRODUCT_SGEMV = 1, PRODUCT_OWN = 2 };

typedef struct {
    sgemm_fn sgemm;
    sgemv_fn sgemv;
    int product;
    long batch, time, rows, units;
    const float *xin;
    float *h[2], *c;
    barrier_t barrier;
} scan_t;

typedef struct {
    scan_t *scan;
    long start, n;
    const float *recurrent, *projection;
} part_t;

/* One part's whole loop: per chunk of steps its input projection, per step its product and its
 * gate arithmetic, then the meeting (with more than one part). */
static void *run_part(void *arg)
{
    const part_t *part = arg;
    scan_t *s = part->scan;
    const long batch = s->batch, n = part->n, u = s->units, g4 = 4 * n;
    long chunk = PROJECTION_CHUNK_FLOATS / (batch * g4);
    chunk = chunk < 1 ? 1 : chunk > s->time ? s->time : chunk;
    const long m_blocks = (g4 + MR - 1) / MR;
    float *z = aligned_alloc(64, ((m_blocks * MR * batch * sizeof(float)) + 63) / 64 * 64);
    float *hs = s->product == PRODUCT_OWN
                    ? aligned_alloc(64, (size_t)((batch + 15) / 16 * 16 * u) * sizeof(float))
                    : NULL;
    float *xw = aligned_alloc(64, ((chunk * g4 * batch * sizeof(float)) + 63) / 64 * 64);
    int sense = 0, stopped = 0;
    for (long t0 = 0; t0 < s->time && !stopped; t0 += chunk) {
        const long count = s->time - t0 < chunk ? s->time - t0 : chunk;
        if (batch == 1)  /* xw [count, 4n]: each step's projection is one contiguous row */
            s->sgemm(ROW_MAJOR, TRANS, TRANS, count, g4, s->rows, 1.0f, s->xin + t0, s->time,
                     part->projection, s->rows, 0.0f, xw, g4);
        else  /* xw [4n, count*batch]: a step's projection is a column block */
            s->sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, g4, count * batch, s->rows, 1.0f,
                     part->projection, s->rows, s->xin + t0 * batch, s->time * batch, 0.0f,
                     xw, count * batch);
        for (long t = t0; t < t0 + count && !stopped; t++) {
            const float *h = s->h[t % 2];
            float *h_next = s->h[(t + 1) % 2] + part->start * batch;
            float *c = s->c + part->start * batch;
            if (s->product == PRODUCT_OWN)
                own_product(m_blocks, u, batch, part->recurrent, h, hs, z);
            else if (s->product == PRODUCT_SGEMV)
                s->sgemv(ROW_MAJOR, NO_TRANS, g4, u, 1.0f, part->recurrent, u, h, 1, 0.0f, z, 1);
            else
                s->sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, g4, batch, u, 1.0f, part->recurrent, u,
                         h, batch, 0.0f, z, batch);
            if (batch == 1)
                gates(1, n, z, n, n, xw + (t - t0) * g4, n, n, c, h_next, n);
            else
                gates(n, batch, z, n * batch, batch, xw + (t - t0) * batch, n * count * batch,
                      count * batch, c, h_next, batch);
            if (s->barrier.parties > 1)
                stopped = barrier_wait(&s->barrier, &sense) != 0;
        }
    }
    free(z);
    free(xw);
    free(hs);
    return NULL;
}

/* The forward: h0 = c0 = 0, `parts` parts split at `bounds` ([parts + 1] unit indices), each
 * with its recurrent and projection weights; `product` is PRODUCT_SGEMM, PRODUCT_SGEMV (batch 1
 * only) or PRODUCT_OWN (batch > 1 only); writes the last h and c ([units, batch]) into
 * h_out and c_out. Returns 0, or -1 if a thread could not be started. */
int lstm_scan(void *sgemm, void *sgemv, int product, long batch, long time, long rows,
              long units, const float *xin, long parts, const long *bounds,
              const float *const *recurrent, const float *const *projection, float *h_out,
              float *c_out)
{
    scan_t s = {.sgemm = (sgemm_fn)sgemm, .sgemv = (sgemv_fn)sgemv, .product = product,
                .batch = batch, .time = time, .rows = rows, .units = units, .xin = xin,
                .c = c_out};
    s.barrier.parties = (int)parts;
    atomic_init(&s.barrier.arrived, 0);
    atomic_init(&s.barrier.sense, 0);
    atomic_init(&s.barrier.stopped, 0);
    s.h[0] = calloc((size_t)(units * batch), sizeof(float));
    s.h[1] = calloc((size_t)(units * batch), sizeof(float));
    memset(c_out, 0, (size_t)(units * batch) * sizeof(float));
    part_t *part = calloc((size_t)parts, sizeof(part_t));
    pthread_t *threads = calloc((size_t)parts, sizeof(pthread_t));
    int failed = 0;
    long started = 1;
    for (long p = 0; p < parts; p++)
        part[p] = (part_t){&s, bounds[p], bounds[p + 1] - bounds[p], recurrent[p],
                           projection[p]};
    for (; started < parts; started++)
        if (pthread_create(&threads[started], NULL, run_part, &part[started]) != 0) {
            failed = 1;
            atomic_store(&s.barrier.stopped, 1);
            break;
        }
    if (!failed)
        run_part(&part[0]);
    for (long p = 1; p < started; p++)
        pthread_join(threads[p], NULL);
    memcpy(h_out, s.h[time % 2], (size_t)(units * batch) * sizeof(float));
    free(s.h[0]);
    free(s.h[1]);
    free(part);
    free(threads);
    return failed ? -1 : 0;
}
