/* Prototype, NOT used by the tfjs_lstm package: the elementwise part of one LSTM step fused in
 * one pass, to measure what a compiled kernel would gain over the numpy step (issue 15).
 * Layout as tfjs_lstm/runtime/recurrent.py: z is [4u, B], gate rows i, f, o (inputs pre-scaled
 * by 0.5, so sigmoid(x) = 0.5*tanh(z) + 0.5) then the candidate g; h and c are [u, B].
 * Built by bench/c_step/measure.py with gcc -O3 -mavx2 -mfma -ffast-math (vectorized tanhf
 * from glibc's libmvec). */
#include <math.h>

void lstm_gates(float *restrict z, const float *restrict xw, float *restrict h,
                float *restrict c, long units, long batch)
{
    long n = units * batch;
    float *zi = z, *zf = z + n, *zo = z + 2 * n, *zg = z + 3 * n;
    const float *xi = xw, *xf = xw + n, *xo = xw + 2 * n, *xg = xw + 3 * n;
    for (long k = 0; k < n; k++) {
        float i = 0.5f * tanhf(zi[k] + xi[k]) + 0.5f;
        float f = 0.5f * tanhf(zf[k] + xf[k]) + 0.5f;
        float o = 0.5f * tanhf(zo[k] + xo[k]) + 0.5f;
        float g = tanhf(zg[k] + xg[k]);
        float cn = f * c[k] + i * g;
        c[k] = cn;
        h[k] = o * tanhf(cn);
    }
}
