/**
 * Strict semantic versions (semver.org 2.0.0) for template versions: parsing and precedence.
 * Small enough to own rather than depend on a package. Pure.
 */

/** A parsed version. `prerelease` holds the dot-separated identifiers after `-`. */
export interface Semver {
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly prerelease: readonly string[];
  readonly build: readonly string[];
}

// The regular expression semver.org publishes: no leading zeros, no `v` prefix.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Parses `text` as a semantic version; undefined when it is not one. */
export function parseSemver(text: string): Semver | undefined {
  const match = SEMVER.exec(text);
  if (!match) return undefined;
  const [, major = '0', minor = '0', patch = '0', prerelease, build] = match;
  return {
    major: BigInt(major),
    minor: BigInt(minor),
    patch: BigInt(patch),
    prerelease: prerelease ? prerelease.split('.') : [],
    build: build ? build.split('.') : [],
  };
}

/** Semver precedence: negative when `a` comes before `b`, 0 when equal (build metadata ignored). */
export function compareSemver(a: Semver, b: Semver): number {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] !== b[key]) return a[key] < b[key] ? -1 : 1;
  }
  // A version without pre-release ranks above any pre-release of it.
  const aIsRelease = a.prerelease.length === 0;
  const bIsRelease = b.prerelease.length === 0;
  if (aIsRelease || bIsRelease) return aIsRelease === bIsRelease ? 0 : aIsRelease ? 1 : -1;
  const length = Math.max(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < length; i++) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const order = compareIdentifier(x, y);
    if (order !== 0) return order;
  }
  return 0;
}

function compareIdentifier(x: string, y: string): number {
  const xNumeric = /^\d+$/.test(x);
  const yNumeric = /^\d+$/.test(y);
  if (xNumeric && yNumeric) {
    const [bx, by] = [BigInt(x), BigInt(y)];
    return bx === by ? 0 : bx < by ? -1 : 1;
  }
  // Numeric identifiers rank below alphanumeric ones; alphanumerics compare in ASCII order.
  if (xNumeric !== yNumeric) return xNumeric ? -1 : 1;
  return x === y ? 0 : x < y ? -1 : 1;
}
