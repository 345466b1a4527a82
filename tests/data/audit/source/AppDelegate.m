#import "AppDelegate.h"
#import <TrustKit/TrustKit.h>

static NSString * const kBackupPin = @"PL1/TTDEe9Cm2lb2X0tixyQC7zaPREm/V0IHJscTCmw=";
#define kApiHost @"api.example.com"

@implementation AppDelegate

- (BOOL)application:(UIApplication *)application didFinishLaunchingWithOptions:(NSDictionary *)launchOptions
{
    NSDictionary *trustKitConfig =
    @{
      kTSKSwizzleNetworkDelegates: @NO,
      kTSKPinnedDomains : @{
              kApiHost : @{
                      kTSKIncludeSubdomains : @(YES),
                      kTSKPublicKeyHashes : @[
                              @"K87oWBWM9UZfyddvDfoxL+8lpNyoUB2ptGtn0fv6G2Q=",
                              kBackupPin,
                              ],
                      kTSKDisableDefaultReportUri : @YES,
                      },
              @"one-pin.example.com" : @{
                      kTSKPublicKeyHashes : @[ @"NDCIt6TrQnfOk+lquunrmlPQB3K/7CLOCmSS5kW+KCc=" ],
                      kTSKEnforcePinning : @NO,
                      },
              }};
    [TrustKit initSharedInstanceWithConfiguration:trustKitConfig];
    return YES;
}

@end
