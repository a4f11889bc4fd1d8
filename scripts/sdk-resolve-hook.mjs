// A module resolve hook (node:module register): bare `@azure/...` imports of the tests resolve
// from another install's node_modules (`data.dir`), so the same compiled suites run against
// other SDK releases than the pinned ones. Modules inside that install resolve as usual.
import { pathToFileURL } from 'node:url';
import path from 'node:path';

let base;
let parentInDir;

export function initialize(data) {
  base = pathToFileURL(path.join(data.dir, 'package.json')).href;
  const prefix = pathToFileURL(data.dir).href + '/';
  parentInDir = (url) => url?.startsWith(prefix) ?? false;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier.startsWith('@azure/') && !parentInDir(context.parentURL)) {
    try {
      return await nextResolve(specifier, { ...context, parentURL: base });
    } catch {
      // A package the other install lacks (one the tests import directly): the pinned one.
    }
  }
  return nextResolve(specifier, context);
}
