/**
 * What we know about each dataset before touching the disk: class names, file names, exact sizes
 * and SHA-256 of every DECOMPRESSED IDX file, where Debian installs it, and where to download it.
 * Browser-safe (plain data).
 */
import type { DatasetName, Split } from './types.js';

export const DATASET_NAMES = ['fashion-mnist', 'mnist'] as const satisfies readonly DatasetName[];

export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/** One IDX file of a dataset. */
export interface DatasetFileInfo {
  /** Canonical decompressed file name, e.g. `train-images-idx3-ubyte` (stored as is or with `.gz`). */
  file: string;
  split: Split;
  role: 'images' | 'labels';
  /** SHA-256 (lowercase hex) of the decompressed file. */
  sha256: string;
  /** Size in bytes of the decompressed file. */
  bytes: number;
}

export interface DatasetInfo {
  name: DatasetName;
  title: string;
  homepage: string;
  /** Class index -> human-readable name. */
  classNames: readonly string[];
  rows: number;
  cols: number;
  counts: Readonly<Record<Split, number>>;
  files: Readonly<Record<Split, { images: DatasetFileInfo; labels: DatasetFileInfo }>>;
  /** Base URLs tried in order; a file's URL is `mirror + file + '.gz'`. */
  mirrors: readonly string[];
  /** Debian/Ubuntu package that installs the gzipped IDX files, if there is one. */
  debian?: { package: string; dir: string };
}

function fileInfo(
  file: string,
  split: Split,
  role: 'images' | 'labels',
  sha256: string,
  count: number,
): DatasetFileInfo {
  // IDX header: 4-byte magic + 4 bytes per dimension; images are count x 28 x 28 uint8.
  const bytes = role === 'images' ? 16 + count * 28 * 28 : 8 + count;
  return { file, split, role, sha256, bytes };
}

function standardFiles(sha: {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
}): DatasetInfo['files'] {
  return {
    train: {
      images: fileInfo('train-images-idx3-ubyte', 'train', 'images', sha.trainImages, 60000),
      labels: fileInfo('train-labels-idx1-ubyte', 'train', 'labels', sha.trainLabels, 60000),
    },
    test: {
      images: fileInfo('t10k-images-idx3-ubyte', 'test', 'images', sha.testImages, 10000),
      labels: fileInfo('t10k-labels-idx1-ubyte', 'test', 'labels', sha.testLabels, 10000),
    },
  };
}

export const CATALOG: Readonly<Record<DatasetName, DatasetInfo>> = {
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST (Zalando Research)',
    homepage: 'https://github.com/zalandoresearch/fashion-mnist',
    classNames: [
      'T-shirt/top',
      'Trouser',
      'Pullover',
      'Dress',
      'Coat',
      'Sandal',
      'Shirt',
      'Sneaker',
      'Bag',
      'Ankle boot',
    ],
    rows: 28,
    cols: 28,
    counts: { train: 60000, test: 10000 },
    files: standardFiles({
      trainImages: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
      trainLabels: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
      testImages: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
      testLabels: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
    }),
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'],
    debian: { package: 'dataset-fashion-mnist', dir: '/usr/share/datasets/fashion-mnist' },
  },
  mnist: {
    name: 'mnist',
    title: 'MNIST handwritten digits (LeCun, Cortes, Burges)',
    homepage: 'https://yann.lecun.com/exdb/mnist/',
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    rows: 28,
    cols: 28,
    counts: { train: 60000, test: 10000 },
    files: standardFiles({
      trainImages: 'ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db',
      trainLabels: '65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5',
      testImages: '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7',
      testLabels: 'ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2',
    }),
    mirrors: [
      'https://ossci-datasets.s3.amazonaws.com/mnist/',
      'https://storage.googleapis.com/cvdf-datasets/mnist/',
    ],
  },
};

/** The four files of a dataset, labels before images (small files first: fail fast). */
export function catalogFiles(name: DatasetName): DatasetFileInfo[] {
  const f = CATALOG[name].files;
  return [f.train.labels, f.test.labels, f.test.images, f.train.images];
}
