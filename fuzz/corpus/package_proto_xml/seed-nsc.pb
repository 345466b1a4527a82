
˜network-security-config*
    *â
Ùdomain-config*	
        *N
Fdomain"#includeSubdomainstrue"2:@*api.example.com)*	
        A*®
¥pin-set"
expiration
2027-01-01*
            )*V
Npin"digestSHA-256*4,7HIpactkIAq2Y49orFOOQKurWxmmSFZhBCoQYcRhJ3Y="*	
        T*	
        *
wtrust-anchors*
            *<
4certificates"$src@raw/ca"	2
€€„øraw/ca	*	
        	)*
    
*	
