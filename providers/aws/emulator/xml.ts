// A tiny XML writer for EC2 Query responses. Values are escaped; undefined fields are left out
// and empty lists render as an empty element (`<tagSet/>`), as EC2 does.

export type XmlChild = string | undefined;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** `<name>value</name>`, `<name/>` for '', nothing for undefined. */
export function leaf(name: string, value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const text = escapeXml(String(value));
  return text === '' ? `<${name}/>` : `<${name}>${text}</${name}>`;
}

/** `<name>children</name>` from already rendered children. */
export function node(name: string, ...children: XmlChild[]): string {
  const inner = children.filter((c): c is string => c !== undefined).join('');
  return inner === '' ? `<${name}/>` : `<${name}>${inner}</${name}>`;
}

/** An EC2 list: `<name><item>...</item>...</name>`. */
export function list<T>(name: string, items: readonly T[], render: (item: T) => string): string {
  return node(name, ...items.map((i) => `<item>${render(i)}</item>`));
}

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export function response(action: string, requestId: string, ...children: XmlChild[]): string {
  const inner = children.filter((c): c is string => c !== undefined).join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_XMLNS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`;
}

export function errorResponse(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${escapeXml(code)}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}
