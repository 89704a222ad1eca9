// The fake API server's own building blocks behave like the real server's.
import { describe, expect, it } from '@jest/globals';
import { jsonPatch, mergePatch, strategicMergePatch } from '../../support/fake-apiserver/patch.ts';
import { parseFieldSelector, parseLabelSelector } from '../../support/fake-apiserver/selectors.ts';
import { validateObject } from './support/model-validate.ts';

describe('patches', () => {
  const node = {
    metadata: { name: 'n', labels: { a: '1' } },
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'MemoryPressure', status: 'False' },
      ],
    },
  };

  it('strategic merge merges conditions by type and honours $patch: delete', () => {
    const out = strategicMergePatch(node, {
      status: { conditions: [{ type: 'VpcnetReady', status: 'True' }, { type: 'MemoryPressure', $patch: 'delete' }] },
    });
    expect(out).toMatchObject({ status: { conditions: [{ type: 'Ready' }, { type: 'VpcnetReady' }] } });
  });

  it('merge patch replaces lists and deletes keys set to null', () => {
    const out = mergePatch(node, { metadata: { labels: { a: null, b: '2' } }, status: { conditions: [{ type: 'X' }] } });
    expect(out).toEqual({ metadata: { name: 'n', labels: { b: '2' } }, status: { conditions: [{ type: 'X' }] } });
  });

  it('JSON patch applies ops and fails on a failed test', () => {
    expect(jsonPatch(node, [{ op: 'add', path: '/metadata/labels/c', value: '3' }, { op: 'remove', path: '/status/conditions/1' }])).toMatchObject({
      metadata: { labels: { a: '1', c: '3' } },
      status: { conditions: [{ type: 'Ready' }] },
    });
    expect(() => jsonPatch(node, [{ op: 'test', path: '/metadata/name', value: 'other' }])).toThrow();
  });
});

describe('selectors', () => {
  const pod = { metadata: { name: 'p', namespace: 'ns', labels: { app: 'web', tier: 'fe' } }, spec: { nodeName: 'node-a' } };
  it('matches field and label selectors as the server does', () => {
    expect(parseFieldSelector('spec.nodeName=node-a')(pod)).toBe(true);
    expect(parseFieldSelector('spec.nodeName=node-b')(pod)).toBe(false);
    expect(parseFieldSelector('metadata.namespace!=kube-system,spec.nodeName==node-a')(pod)).toBe(true);
    expect(() => parseFieldSelector('spec.hostNetwork=true')).toThrow();
    expect(parseLabelSelector('app=web,tier in (fe, be),!canary')(pod)).toBe(true);
    expect(parseLabelSelector('app notin (web)')(pod)).toBe(false);
  });
});

describe('API model validator', () => {
  const ds = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'x' },
    spec: { selector: { matchLabels: { a: 'b' } }, template: { spec: { hostNetwork: true, containers: [{ name: 'c' }] } } },
  };
  it('accepts a valid object and rejects unknown fields and wrong types', () => {
    expect(validateObject(ds)).toEqual([]);
    const typo = structuredClone(ds) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    typo['spec']['template']['spec']['hostNetwrk'] = true;
    expect(validateObject(typo)).toEqual([expect.stringContaining('unknown field "hostNetwrk"')]);
    const wrong = structuredClone(ds) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    wrong['spec']['template']['spec']['hostNetwork'] = 'yes';
    expect(validateObject(wrong)).toEqual([expect.stringContaining('expected boolean')]);
    expect(validateObject({ apiVersion: 'v1', kind: 'Nonsense' })).toEqual([expect.stringContaining('no model')]);
  });
});
