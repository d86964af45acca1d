/** This package's version (kept in step with package.json; written into exported models). */
export const PACKAGE_VERSION = '0.1.0';
