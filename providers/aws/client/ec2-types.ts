// The EC2 actions vpcnet calls, with exactly the input members it sends and the output members
// it reads, named as the AWS SDK names them (so the SDK's client is a drop-in transport in
// tests). ec2-query.ts maps these to the Query protocol's parameter and element names.

export interface Tag {
  Key?: string;
  Value?: string;
}

export interface Filter {
  Name: string;
  Values: string[];
}

export interface GroupIdentifier {
  GroupId?: string;
  GroupName?: string;
}

export interface NetworkInterfaceAttachment {
  AttachmentId?: string;
  DeviceIndex?: number;
  NetworkCardIndex?: number;
  InstanceId?: string;
  Status?: string;
  DeleteOnTermination?: boolean;
}

export interface NetworkInterface {
  NetworkInterfaceId?: string;
  SubnetId?: string;
  VpcId?: string;
  AvailabilityZone?: string;
  MacAddress?: string;
  PrivateIpAddress?: string;
  Status?: string;
  Description?: string;
  Attachment?: NetworkInterfaceAttachment;
  Groups?: GroupIdentifier[];
  PrivateIpAddresses?: Array<{ PrivateIpAddress?: string; Primary?: boolean }>;
  Ipv4Prefixes?: Array<{ Ipv4Prefix?: string }>;
  TagSet?: Tag[];
}

export interface Subnet {
  SubnetId?: string;
  VpcId?: string;
  CidrBlock?: string;
  AvailabilityZone?: string;
  AvailableIpAddressCount?: number;
  Tags?: Tag[];
}

export interface InstanceTypeInfo {
  InstanceType?: string;
  Hypervisor?: string;
  BareMetal?: boolean;
  NetworkInfo?: {
    MaximumNetworkInterfaces?: number;
    Ipv4AddressesPerInterface?: number;
    NetworkCards?: Array<{ NetworkCardIndex?: number; MaximumNetworkInterfaces?: number }>;
  };
}

export interface Ec2Ops {
  AssignPrivateIpAddresses: [
    { NetworkInterfaceId: string; SecondaryPrivateIpAddressCount?: number; PrivateIpAddresses?: string[]; Ipv4PrefixCount?: number },
    { NetworkInterfaceId?: string; AssignedPrivateIpAddresses?: Array<{ PrivateIpAddress?: string }>; AssignedIpv4Prefixes?: Array<{ Ipv4Prefix?: string }> },
  ];
  AttachNetworkInterface: [{ NetworkInterfaceId: string; InstanceId: string; DeviceIndex: number }, { AttachmentId?: string; NetworkCardIndex?: number }];
  CreateNetworkInterface: [
    {
      SubnetId: string;
      Groups?: string[];
      Description?: string;
      ClientToken?: string;
      SecondaryPrivateIpAddressCount?: number;
      Ipv4PrefixCount?: number;
      TagSpecifications?: Array<{ ResourceType: string; Tags: Tag[] }>;
    },
    { NetworkInterface?: NetworkInterface; ClientToken?: string },
  ];
  CreateTags: [{ Resources: string[]; Tags: Tag[] }, Record<string, never>];
  DeleteNetworkInterface: [{ NetworkInterfaceId: string }, Record<string, never>];
  DescribeInstanceTypes: [{ InstanceTypes: string[] }, { InstanceTypes?: InstanceTypeInfo[]; NextToken?: string }];
  DescribeNetworkInterfaces: [
    { NetworkInterfaceIds?: string[]; Filters?: Filter[]; MaxResults?: number; NextToken?: string },
    { NetworkInterfaces?: NetworkInterface[]; NextToken?: string },
  ];
  DescribeSubnets: [{ SubnetIds?: string[]; Filters?: Filter[] }, { Subnets?: Subnet[]; NextToken?: string }];
  DetachNetworkInterface: [{ AttachmentId: string; Force?: boolean }, Record<string, never>];
  ModifyNetworkInterfaceAttribute: [{ NetworkInterfaceId: string; Attachment: { AttachmentId: string; DeleteOnTermination: boolean } }, Record<string, never>];
  UnassignPrivateIpAddresses: [{ NetworkInterfaceId: string; PrivateIpAddresses?: string[]; Ipv4Prefixes?: string[] }, Record<string, never>];
}
export type Ec2Action = keyof Ec2Ops;
export const EC2_ACTIONS: readonly Ec2Action[] = [
  'AssignPrivateIpAddresses',
  'AttachNetworkInterface',
  'CreateNetworkInterface',
  'CreateTags',
  'DeleteNetworkInterface',
  'DescribeInstanceTypes',
  'DescribeNetworkInterfaces',
  'DescribeSubnets',
  'DetachNetworkInterface',
  'ModifyNetworkInterfaceAttribute',
  'UnassignPrivateIpAddresses',
];

/** How EC2 calls are sent: our Query client (ec2-query.ts) in the agent, the SDK's client or a script in tests. */
export interface Ec2Transport {
  send<A extends Ec2Action>(action: A, input: Ec2Ops[A][0]): Promise<Ec2Ops[A][1]>;
  /** Closes kept-alive connections. */
  destroy?(): void;
}
