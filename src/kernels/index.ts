// Every kernel family's host API, one module each (assembly/<family> holds the matching kernels).
export { count, sum, min, max, mean, type Scalar } from './aggregate.js';
