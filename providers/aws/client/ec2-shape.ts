// How the EC2 Query client reads the generated tables (ec2-shapes.ts): a shape is a scalar, a
// list, or a structure of member -> [wire name, shape].
export type Shape = 'string' | 'number' | 'boolean' | { list: Shape } | { struct: Record<string, [string, Shape]> };
