// The part of jstat (https://github.com/jstat/jstat, no bundled types) that lenet-bench uses.
declare module 'jstat' {
  interface StudentT {
    /** Quantile (inverse CDF) of Student's t with `dof` degrees of freedom. */
    inv(p: number, dof: number): number;
    cdf(x: number, dof: number): number;
  }
  interface Binomial {
    /** P(X <= k) for X ~ Binomial(n, p). */
    cdf(k: number, n: number, p: number): number;
  }
  const jStat: { studentt: StudentT; binomial: Binomial };
  export default jStat;
}
