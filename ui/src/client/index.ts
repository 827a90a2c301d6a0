// Confab protocol client: usable by any web app, independent of the React UI.
export * from './protocol';
export * from './transport';
export * from './errors';
export * from './backoff';
export * from './emitter';
export * from './connection';
export * from './http';
export * from './store';
export * from './client';
