// Arrow at the edges: import arrow-js Vectors/Tables into the arena, export columns as views.
export { importVector, importTable, type ImportOptions, type ArrowColumnInput } from './import.js';
export { exportVector, exportData, exportTable, exportBatch, arrowType } from './export.js';
export { Batch, type BatchInit } from './batch.js';
export { isContextBuffer } from './resident.js';
