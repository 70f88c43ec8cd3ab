/**
 * PostGraphile 5.1 declares node >= 22 and calls Promise.withResolvers (ES2024), which node 20
 * (this project's floor, package.json engines) lacks: without it every query fails with
 * "Cannot read properties of undefined (reading 'items')". This is the standard shim, installed
 * only in the PostGraphile child and only when missing. It is the sole Node 22 API its runtime
 * code uses (checked by grep over grafast, @dataplan/*, graphile-build*, grafserv, postgraphile).
 */
interface WithResolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const P = Promise as unknown as { withResolvers?: <T>() => WithResolvers<T> };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = <T>(): WithResolvers<T> => {
    let resolve!: WithResolvers<T>['resolve'];
    let reject!: WithResolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export {};
