// Build step: tsc does not copy the vendored static protobufjs module (plain .js + .d.ts).
import { cpSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
cpSync(join(root, 'src', 'onnx-pb'), join(root, 'dist', 'onnx-pb'), { recursive: true });
